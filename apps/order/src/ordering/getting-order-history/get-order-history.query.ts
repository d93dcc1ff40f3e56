import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { EventStore, type RecordedEvent } from '@ordering/event-store';
import type { Repository } from 'typeorm';
import type { Reader } from '../getting-order/get-order.query.js';
import { OrderSummary } from '../getting-order/order-summary.entity.js';
import type { OrderEvent } from '../domain/order.js';
import { orderStreamId } from '../order-stream.js';

/** The order's events, oldest first: its audit trail. Null when the reader may not see it. */
export class GetOrderHistoryQuery extends Query<RecordedEvent<OrderEvent>[] | null> {
  constructor(
    readonly orderId: string,
    readonly reader: Reader,
  ) {
    super();
  }
}

@QueryHandler(GetOrderHistoryQuery)
export class GetOrderHistoryHandler implements IQueryHandler<GetOrderHistoryQuery> {
  constructor(
    private readonly store: EventStore<OrderEvent>,
    @InjectRepository(OrderSummary) private readonly orders: Repository<OrderSummary>,
  ) {}

  async execute({
    orderId,
    reader,
  }: GetOrderHistoryQuery): Promise<RecordedEvent<OrderEvent>[] | null> {
    const visible = await this.orders.existsBy(
      reader.isAdmin ? { orderId } : { orderId, customerId: reader.id },
    );
    return visible ? this.store.readStream(orderStreamId(orderId)) : null;
  }
}
