import { Injectable } from '@nestjs/common';
import { EventStore } from '@ordering/event-store';
import type { BatchLocks, ConsumerLocks } from '@ordering/messaging';
import type { OrderEvent } from '../ordering/domain/order.js';
import { orderStreamId } from '../ordering/order-stream.js';

/**
 * A batch of the inventory's answers locks the streams of all the orders it answers for, in one
 * statement, before the saga appends to any of them (see EventStore.lockStreams).
 */
@Injectable()
export class OrderStreamLocks implements ConsumerLocks {
  constructor(private readonly store: EventStore<OrderEvent>) {}

  readonly lock: BatchLocks = (tx, events) =>
    this.store.lockStreams(
      tx,
      events.flatMap(({ data }) => {
        const { orderId } = data as { orderId?: unknown };
        return typeof orderId === 'string' ? [orderStreamId(orderId)] : [];
      }),
    );
}
