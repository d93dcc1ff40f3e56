import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Caller, UuidParam } from '@ordering/platform';
import { orderNotFound } from '../order-problems.interceptor.js';
import { GetOrderHistoryQuery } from './get-order-history.query.js';

export class OrderEventView {
  @ApiProperty({ example: 'OrderPlaced' }) type!: string;
  @ApiProperty({ description: 'The order’s version after this event' }) version!: number;
  @ApiProperty() time!: Date;
  @ApiProperty({ type: 'object', additionalProperties: true }) data!: unknown;
  @ApiProperty({ description: 'Who and what caused it: correlation and causation ids, user' })
  metadata!: Record<string, unknown>;
}

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
export class GetOrderHistoryHttpController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':orderId/events')
  @ApiOperation({ summary: 'The order’s events, oldest first: its audit trail' })
  @ApiOkResponse({ type: [OrderEventView] })
  async history(
    @UuidParam('orderId') orderId: string,
    @Caller() caller: Caller,
  ): Promise<OrderEventView[]> {
    const events = await this.queries.execute(new GetOrderHistoryQuery(orderId, caller));
    if (!events) {
      throw orderNotFound(orderId);
    }
    return events.map((event) => ({
      type: event.type,
      version: event.streamPosition,
      time: event.recordedAt,
      data: event.data,
      metadata: event.metadata,
    }));
  }
}
