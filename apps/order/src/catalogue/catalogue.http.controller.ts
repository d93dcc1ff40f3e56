import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { GetCatalogueQuery } from './get-catalogue.query.js';

class CatalogueProductView {
  @ApiProperty({ example: 'SKU-COFFEE-1KG' }) sku!: string;
  @ApiProperty({ example: 'Coffee beans, 1 kg' }) name!: string;
  @ApiProperty({ description: 'In minor units of the currency (cents)', example: 1899 })
  price!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ description: 'Units available when the inventory last reported' })
  available!: number;
  @ApiProperty() updatedAt!: Date;
}

@ApiTags('catalogue')
@ApiBearerAuth()
@Controller('catalogue')
export class CatalogueHttpController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The replica of the inventory catalogue that orders are priced from' })
  @ApiOkResponse({ type: [CatalogueProductView] })
  async list(): Promise<CatalogueProductView[]> {
    const products = await this.queries.execute(new GetCatalogueQuery());
    return products.map(({ sku, name, price, currency, available, updatedAt }) => ({
      sku,
      name,
      price,
      currency,
      available,
      updatedAt,
    }));
  }
}
