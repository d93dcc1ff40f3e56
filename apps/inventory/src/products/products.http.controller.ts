import { Body, Controller, Get, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Caller, type HttpResponse, PathParam, ProblemException, Public } from '@ordering/platform';
import { SKU_IN_WORDS, SKU_PATTERN } from '@ordering/contracts';
import { IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ProductCatalogue } from './product-catalogue.js';
import type { Product } from './product.entity.js';

export class ProductView {
  @ApiProperty({ example: 'COFFEE-BEANS-1KG' }) sku!: string;
  @ApiProperty({ example: 'Coffee beans, 1 kg', minLength: 1, maxLength: 200 }) name!: string;
  @ApiProperty({
    description: 'In minor units of the currency (cents)',
    example: 1899,
    minimum: 0,
    maximum: 1_000_000_000,
  })
  price!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ description: 'Units that can still be reserved' }) available!: number;
  @ApiProperty({ description: 'Units held for orders' }) reserved!: number;
  @ApiProperty() version!: number;
  @ApiProperty() updatedAt!: Date;
}

export class PutProductRequest {
  @ApiProperty({ example: 'Coffee beans, 1 kg', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({
    description: 'In minor units of the currency (cents)',
    example: 1899,
    minimum: 0,
    maximum: 1_000_000_000,
  })
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  price!: number;

  @ApiProperty({ example: 'EUR', pattern: '^[A-Z]{3}$' })
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as EUR' })
  currency!: string;

  @ApiProperty({
    description: 'Units available to reserve',
    example: 100,
    minimum: 0,
    maximum: 1_000_000_000,
  })
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  available!: number;
}

const view = ({
  sku,
  name,
  price,
  currency,
  available,
  reserved,
  version,
  updatedAt,
}: Product) => ({
  sku,
  name,
  price,
  currency,
  available,
  reserved,
  version,
  updatedAt,
});

const SKU = new RegExp(SKU_PATTERN);

/** The `:sku` of a route (see SKU_PATTERN), or a 400 saying what a SKU is. */
const SkuParam = () =>
  PathParam(
    'sku',
    { type: 'string', pattern: SKU_PATTERN, maxLength: 64 },
    {
      transform: (sku: string) => {
        if (SKU.test(sku)) return sku;
        throw new ProblemException(400, {
          type: 'validation-failed',
          title: 'Invalid SKU',
          errors: [{ field: 'sku', message: `must be ${SKU_IN_WORDS}` }],
        });
      },
    },
  );

@ApiTags('products')
@Controller('products')
export class ProductsHttpController {
  constructor(private readonly catalogue: ProductCatalogue) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'The catalogue with stock levels' })
  @ApiOkResponse({ type: [ProductView] })
  async list(): Promise<ProductView[]> {
    return (await this.catalogue.all()).map(view);
  }

  @Get(':sku')
  @Public()
  @ApiOkResponse({ type: ProductView })
  async get(@SkuParam() sku: string): Promise<ProductView> {
    const product = await this.catalogue.find(sku);
    if (!product) {
      throw new ProblemException(404, { type: 'product-not-found', title: `No product ${sku}` });
    }
    return view(product);
  }

  @Put(':sku')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Create or update a product and its available units (admins)',
    description: 'Every change is published as `product.updated`.',
  })
  @ApiOkResponse({ type: ProductView })
  async put(
    @SkuParam() sku: string,
    @Body() request: PutProductRequest,
    @Caller() caller: Caller,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<ProductView> {
    if (!caller.isAdmin) {
      throw new ProblemException(403, {
        type: 'forbidden',
        title: 'Only admins may change the catalogue',
      });
    }
    const { product, created } = await this.catalogue.put({ sku, ...request }, caller.id);
    void response.status(created ? 201 : 200);
    return view(product);
  }
}
