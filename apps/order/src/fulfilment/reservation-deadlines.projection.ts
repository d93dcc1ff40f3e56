import { Inject, Injectable } from '@nestjs/common';
import type { InlineProjection, RecordedEvent } from '@ordering/event-store';
import type { Transaction } from '@ordering/platform';
import type { OrderEvent } from '../ordering/domain/order.js';
import { OrderProjection, orderEventTypes } from '../ordering/order-stream.js';

export const RESERVATION_TIMEOUT_MS = Symbol('RESERVATION_TIMEOUT_MS');

/**
 * The saga's durable deadlines: a pending order gets one when it is placed, in the same
 * transaction, and loses it when it leaves PENDING. They survive any restart.
 */
@Injectable()
@OrderProjection()
export class ReservationDeadlines implements InlineProjection<OrderEvent> {
  readonly name = 'reservation-deadlines';
  readonly eventTypes = orderEventTypes.types;
  readonly tables = ['reservation_deadlines'];

  constructor(@Inject(RESERVATION_TIMEOUT_MS) private readonly timeoutMs: number) {}

  async project(events: readonly RecordedEvent<OrderEvent>[], tx: Transaction): Promise<void> {
    // An order's last event decides: a deadline from its placement, or none once it has left PENDING.
    const due = new Map<string, { at: string; traceparent: string | null } | null>();
    for (const event of events) {
      due.set(
        event.data.orderId,
        event.type === 'OrderPlaced'
          ? {
              at: new Date(Date.parse(event.data.placedAt) + this.timeoutMs).toISOString(),
              traceparent: event.metadata.traceparent ?? null,
            }
          : null,
      );
    }
    const open = [...due].flatMap(([orderId, deadline]) =>
      deadline ? [{ orderId, ...deadline }] : [],
    );
    const closed = [...due].flatMap(([orderId, deadline]) => (deadline ? [] : [orderId]));
    if (open.length > 0) {
      await tx.query(
        `INSERT INTO reservation_deadlines (order_id, due_at, traceparent)
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[])
         ON CONFLICT (order_id) DO NOTHING`,
        [open.map((d) => d.orderId), open.map((d) => d.at), open.map((d) => d.traceparent)],
      );
    }
    if (closed.length > 0) {
      await tx.query('DELETE FROM reservation_deadlines WHERE order_id = ANY($1::uuid[])', [
        closed,
      ]);
    }
  }
}
