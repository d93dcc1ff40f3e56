import { Injectable } from '@nestjs/common';
import {
  createEvent,
  Exchanges,
  orderCancelledV1,
  orderConfirmedV1,
  orderPlacedV1,
  orderRejectedV1,
} from '@ordering/contracts';
import type { InlineProjection, RecordedEvent } from '@ordering/event-store';
import { addToOutbox, type OutboxMessage } from '@ordering/messaging';
import { deterministicUuid, type Transaction } from '@ordering/platform';
import type { OrderEvent } from '../domain/order.js';
import { OrderProjection, orderEventTypes } from '../order-stream.js';

/**
 * The one mapping from the order's domain events to what other services may read, written to
 * the outbox in the append transaction. `order.placed` carries the whole order; the others are
 * thin notifications. Message ids derive from the stream and version: one event, one message id.
 */
export function toIntegrationEvent(recorded: RecordedEvent<OrderEvent>): OutboxMessage {
  const base = {
    id: deterministicUuid(`${recorded.streamId}:${recorded.streamPosition}`),
    subject: recorded.data.orderId,
    time: recorded.recordedAt.toISOString(),
    correlationid: recorded.metadata.correlationId ?? recorded.streamId,
    causationid: recorded.metadata.causationId ?? recorded.streamId,
    ...(recorded.metadata.traceparent ? { traceparent: recorded.metadata.traceparent } : {}),
  };
  const version = recorded.streamPosition;
  const time = recorded.recordedAt.toISOString();
  switch (recorded.type) {
    case 'OrderPlaced':
      return message(createEvent(orderPlacedV1, { ...base, data: { ...recorded.data, version } }));
    case 'OrderConfirmed':
      return message(
        createEvent(orderConfirmedV1, {
          ...base,
          data: { orderId: recorded.data.orderId, status: 'CONFIRMED', version, occurredAt: time },
        }),
      );
    case 'OrderRejected':
      return message(
        createEvent(orderRejectedV1, {
          ...base,
          data: {
            orderId: recorded.data.orderId,
            status: 'REJECTED',
            version,
            occurredAt: time,
            reason: recorded.data.reason,
          },
        }),
      );
    case 'OrderCancelled':
      return message(
        createEvent(orderCancelledV1, {
          ...base,
          data: {
            orderId: recorded.data.orderId,
            status: 'CANCELLED',
            version,
            occurredAt: time,
            reason: recorded.data.reason,
          },
        }),
      );
  }
}

const message = (event: OutboxMessage['event']): OutboxMessage => ({
  exchange: Exchanges.order,
  event,
});

/** Puts every appended order event in the outbox. Not rebuildable: it would publish history again. */
@Injectable()
@OrderProjection()
export class OrderIntegrationEvents implements InlineProjection<OrderEvent> {
  readonly name = 'order-integration-events';
  readonly eventTypes = orderEventTypes.types;

  async project(events: readonly RecordedEvent<OrderEvent>[], tx: Transaction): Promise<void> {
    await addToOutbox(tx, events.map(toIntegrationEvent));
  }
}
