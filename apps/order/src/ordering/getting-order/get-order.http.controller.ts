import { Controller, Get, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Caller, type HttpResponse, UuidParam, ProblemException } from '@ordering/platform';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';

/** The highest version an order can be asked at (the ETag's nine digits, as If-Match reads). */
const MAX_VERSION = 999_999_999;
import { GetOrderAsOfQuery, GetOrderQuery } from './get-order.query.js';
import { orderNotFound } from '../order-problems.interceptor.js';
import { OrderView, toOrderView } from './order.view.js';

export class GetOrderRequest {
  @ApiPropertyOptional({
    description: 'The order as it was at this version',
    minimum: 1,
    maximum: MAX_VERSION,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_VERSION)
  version?: number;

  @ApiPropertyOptional({
    description: 'The order as it was at this instant (ISO 8601)',
    format: 'date-time',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  at?: string;
}

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
export class GetOrderHttpController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':orderId')
  @ApiOperation({
    summary: 'One of the caller’s orders (any order for admins)',
    description: 'With `version` or `at`, the order as it was then, rebuilt from its events.',
  })
  @ApiOkResponse({ type: OrderView })
  async get(
    @UuidParam('orderId') orderId: string,
    @Query() asOf: GetOrderRequest,
    @Caller() caller: Caller,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<OrderView> {
    if (asOf.version !== undefined && asOf.at !== undefined) {
      throw new ProblemException(400, {
        type: 'validation-failed',
        title: 'Give either version or at, not both',
        errors: [{ field: 'at', message: 'cannot be combined with version' }],
      });
    }
    const temporal = asOf.version !== undefined || asOf.at !== undefined;
    const order = temporal
      ? await this.queries.execute(
          new GetOrderAsOfQuery(orderId, caller, {
            version: asOf.version,
            time: asOf.at === undefined ? undefined : new Date(asOf.at),
          }),
        )
      : await this.queries.execute(new GetOrderQuery(orderId, caller));
    if (!order) {
      throw orderNotFound(
        orderId,
        asOf.at ? ` at ${asOf.at}` : asOf.version ? ' at that version' : '',
      );
    }
    void response.header('ETag', `"${order.version}"`);
    return toOrderView(order);
  }
}
