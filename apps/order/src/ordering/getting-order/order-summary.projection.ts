import { Injectable } from '@nestjs/common';
import type { InlineProjection, RecordedEvent } from '@ordering/event-store';
import type { Transaction } from '@ordering/platform';
import { evolve, initialOrder, type Order, type OrderEvent } from '../domain/order.js';
import { OrderProjection, orderEventTypes } from '../order-stream.js';
import { OrderSummary } from './order-summary.entity.js';

/** The summary row of an order as its state stood after the event at `version`. */
export function summarize(state: Order, version: number, updatedAt: Date): OrderSummary | null {
  if (state.status === 'NONE') return null;
  return Object.assign(new OrderSummary(), {
    orderId: state.orderId,
    customerId: state.customerId,
    status: state.status,
    items: state.lines,
    total: state.total,
    currency: state.currency,
    reason: state.reason ?? null,
    shortLines: state.shortLines ?? null,
    version,
    createdAt: new Date(state.placedAt),
    updatedAt,
  });
}

interface SummaryRow {
  order_id: string;
  customer_id: string;
  status: OrderSummary['status'];
  items: OrderSummary['items'];
  total: string;
  currency: string;
  reason: string | null;
  short_lines: OrderSummary['shortLines'];
  version: number;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: SummaryRow): OrderSummary {
  return Object.assign(new OrderSummary(), {
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    items: row.items,
    total: Number(row.total),
    currency: row.currency,
    reason: row.reason,
    shortLines: row.short_lines,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function stateOf(row: OrderSummary): Order {
  return {
    status: row.status,
    orderId: row.orderId,
    customerId: row.customerId,
    lines: row.items,
    total: row.total,
    currency: row.currency,
    placedAt: row.createdAt.toISOString(),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.shortLines === null ? {} : { shortLines: row.shortLines }),
  };
}

/**
 * Keeps `order_summaries` in step with the order streams. An order a command has just decided is
 * summarized from the state that command left it in, without a read; otherwise (a rebuild) the
 * row is moved on through the aggregate's own `evolve`, so the read model can never interpret an
 * event differently from the write model.
 */
@Injectable()
@OrderProjection()
export class OrderSummaryProjection implements InlineProjection<OrderEvent, Order> {
  readonly name = 'order-summaries';
  readonly eventTypes = orderEventTypes.types;

  readonly tables = ['order_summaries'];

  async project(
    events: readonly RecordedEvent<OrderEvent>[],
    tx: Transaction,
    decided: ReadonlyMap<string, Order> = new Map(),
  ): Promise<void> {
    const rows = new Map<string, OrderSummary>();
    const lastEvents = new Map<string, RecordedEvent<OrderEvent>>();
    for (const event of events) lastEvents.set(event.streamId, event);
    for (const [streamId, last] of lastEvents) {
      const state = decided.get(streamId);
      const summary = state && summarize(state, last.streamPosition, last.recordedAt);
      if (summary) rows.set(summary.orderId, summary);
    }
    const toFold = events.filter((event) => !rows.has(event.data.orderId));

    // An order whose first event here is its first event has no row to start from.
    const firstSeen = new Map<string, number>();
    for (const event of toFold) {
      const orderId = event.data.orderId;
      if (!firstSeen.has(orderId)) firstSeen.set(orderId, event.streamPosition);
    }
    const toRead = [...firstSeen].filter(([, position]) => position > 1).map(([id]) => id);
    if (toRead.length > 0) {
      const existing = await tx.query<SummaryRow>(
        `SELECT order_id, customer_id, status, items, total, currency, reason, short_lines,
           version, created_at, updated_at
         FROM order_summaries WHERE order_id = ANY($1::uuid[]) FOR UPDATE`,
        [toRead],
        { plan: 'per-execution' },
      );
      for (const row of existing) rows.set(row.order_id, fromRow(row));
    }

    for (const event of toFold) {
      const current = rows.get(event.data.orderId);
      if (current && current.version >= event.streamPosition) continue;
      const next = summarize(
        evolve(current ? stateOf(current) : initialOrder, event),
        event.streamPosition,
        event.recordedAt,
      );
      if (next) rows.set(next.orderId, next);
    }
    if (rows.size === 0) return;
    const summaries = [...rows.values()];
    // Redelivered history (a rebuild racing an append) must not move a row backwards.
    await tx.query(
      `INSERT INTO order_summaries (order_id, customer_id, status, items, total, currency, reason,
         short_lines, version, created_at, updated_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::bigint[],
         $6::text[], $7::text[], $8::jsonb[], $9::int[], $10::timestamptz[], $11::timestamptz[])
       ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
         status = EXCLUDED.status, items = EXCLUDED.items, total = EXCLUDED.total,
         currency = EXCLUDED.currency, reason = EXCLUDED.reason,
         short_lines = EXCLUDED.short_lines, version = EXCLUDED.version,
         created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
       WHERE order_summaries.version < EXCLUDED.version`,
      [
        summaries.map((r) => r.orderId),
        summaries.map((r) => r.customerId),
        summaries.map((r) => r.status),
        summaries.map((r) => JSON.stringify(r.items)),
        summaries.map((r) => r.total),
        summaries.map((r) => r.currency),
        summaries.map((r) => r.reason),
        summaries.map((r) => (r.shortLines === null ? null : JSON.stringify(r.shortLines))),
        summaries.map((r) => r.version),
        summaries.map((r) => r.createdAt),
        summaries.map((r) => r.updatedAt),
      ],
    );
  }
}
