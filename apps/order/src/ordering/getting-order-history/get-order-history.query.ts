import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore, type RecordedEvent } from '@ordering/event-store';
import type { Caller } from '@ordering/platform';
import type { OrderEvent } from '../domain/order.js';
import { orderAccess } from '../order-access.js';
import { orderStreamId } from '../order-stream.js';

/** The order's events, oldest first: its audit trail. Null when the reader may not see it. */
export class GetOrderHistoryQuery extends Query<RecordedEvent<OrderEvent>[] | null> {
  constructor(
    readonly orderId: string,
    readonly reader: Caller,
  ) {
    super();
  }
}

@QueryHandler(GetOrderHistoryQuery)
export class GetOrderHistoryHandler implements IQueryHandler<GetOrderHistoryQuery> {
  constructor(private readonly store: EventStore<OrderEvent>) {}

  async execute({
    orderId,
    reader,
  }: GetOrderHistoryQuery): Promise<RecordedEvent<OrderEvent>[] | null> {
    const events = await this.store.readStream(orderStreamId(orderId));
    // The stream says whose order it is: its first event places it for its customer.
    const [placed] = events;
    return placed?.type === 'OrderPlaced' &&
      orderAccess.maySeeHistory(reader, placed.data.customerId)
      ? events
      : null;
  }
}
