import { Injectable } from '@nestjs/common';
import type { InlineProjection, RecordedEvent } from '@ordering/event-store';
import { In, type EntityManager } from 'typeorm';
import {
  evolve,
  initialOrder,
  ORDER_EVENT_TYPES,
  type Order,
  type OrderEvent,
} from '../domain/order.js';
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
 * Keeps `order_summaries` in step with the order streams, through the aggregate's own `evolve`,
 * so the read model can never interpret an event differently from the write model.
 */
@Injectable()
export class OrderSummaryProjection implements InlineProjection {
  readonly name = 'order-summaries';
  readonly eventTypes = ORDER_EVENT_TYPES;

  async project(events: readonly RecordedEvent[], tx: EntityManager): Promise<void> {
    const repository = tx.getRepository(OrderSummary);
    const orderIds = [
      ...new Set(events.map((event) => (event.data as OrderEvent['data']).orderId)),
    ];
    const existing = await repository.find({
      where: { orderId: In(orderIds) },
      lock: { mode: 'pessimistic_write' },
    });
    const rows = new Map(existing.map((row) => [row.orderId, row]));

    for (const event of events) {
      const orderEvent = event as unknown as OrderEvent;
      const current = rows.get(orderEvent.data.orderId);
      // Redelivered history (a rebuild racing an append) must not move a row backwards.
      if (current && current.version >= event.streamPosition) continue;
      const next = summarize(
        evolve(current ? stateOf(current) : initialOrder, orderEvent),
        event.streamPosition,
        event.recordedAt,
      );
      if (next) rows.set(next.orderId, next);
    }
    if (rows.size > 0) await repository.upsert([...rows.values()], ['orderId']);
  }

  async reset(tx: EntityManager): Promise<void> {
    await tx.query('TRUNCATE order_summaries');
  }
}
