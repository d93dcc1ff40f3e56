import { Injectable } from '@nestjs/common';
import {
  createEvent,
  Exchanges,
  orderCancelledV1,
  orderConfirmedV1,
  orderPlacedV1,
  orderRejectedV1,
} from '@ordering/contracts';
import type { AppendingEvent, InlineProjection } from '@ordering/event-store';
import {
  outboxWriteWithAppend,
  type OutboxMessage,
  type OutboxMessageOfEvent,
} from '@ordering/messaging';
import { deterministicUuid, type Transaction } from '@ordering/platform';
import type { OrderEvent } from '../domain/order.js';
import { OrderProjection, orderEventTypes } from '../order-stream.js';

/** When it happened, by the clock the order decided with. */
function occurredAt(event: OrderEvent): string {
  switch (event.type) {
    case 'OrderPlaced':
      return event.data.placedAt;
    case 'OrderConfirmed':
      return event.data.confirmedAt;
    case 'OrderRejected':
      return event.data.rejectedAt;
    case 'OrderCancelled':
      return event.data.cancelledAt;
  }
}

/**
 * The one mapping from the order's domain events to what other services may read, written to
 * the outbox by the append's own statement. `order.placed` carries the whole order; the others
 * are thin notifications. Message ids derive from the stream and version: one event, one message
 * id. Its time is the event's own (when the order decided it), known before it is stored.
 */
export function toIntegrationEvent(recorded: AppendingEvent<OrderEvent>): OutboxMessageOfEvent {
  const time = occurredAt(recorded);
  const base = {
    id: deterministicUuid(`${recorded.streamId}:${recorded.streamPosition}`),
    subject: recorded.data.orderId,
    time,
    correlationid: recorded.metadata.correlationId ?? recorded.streamId,
    causationid: recorded.metadata.causationId ?? recorded.streamId,
    ...(recorded.metadata.traceparent ? { traceparent: recorded.metadata.traceparent } : {}),
  };
  const version = recorded.streamPosition;
  const message = (event: OutboxMessage['event']): OutboxMessageOfEvent => ({
    exchange: Exchanges.order,
    event,
    streamId: recorded.streamId,
    streamPosition: recorded.streamPosition,
  });
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

/**
 * Puts every appended order event in the outbox, by the append's own statement. Not
 * rebuildable: it would publish history again.
 */
@Injectable()
@OrderProjection()
export class OrderIntegrationEvents implements InlineProjection<OrderEvent> {
  readonly name = 'order-integration-events';
  readonly eventTypes = orderEventTypes.types;

  readonly writeWithAppend = (events: readonly AppendingEvent<OrderEvent>[], tx: Transaction) =>
    outboxWriteWithAppend(tx, events.map(toIntegrationEvent));
}
