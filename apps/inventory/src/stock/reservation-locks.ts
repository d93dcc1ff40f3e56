import { Injectable } from '@nestjs/common';
import type { CloudEvent, OrderPlacedV1 } from '@ordering/contracts';
import type { BatchLocks, ConsumerLocks } from '@ordering/messaging';
import { reservations } from './reservation-store.js';

/**
 * A batch of order events takes every lock its reservations and releases will need before any of
 * them runs: the orders' (sorted), then every product they reserve or give back (sorted). Two
 * batches (of two instances, say) then always lock in the same order and cannot deadlock.
 */
@Injectable()
export class ReservationLocks implements ConsumerLocks {
  readonly lock: BatchLocks = async (tx, events) => {
    const orderOf = (event: CloudEvent) => (event.data as { orderId: string }).orderId;
    await reservations.lockOrders(tx, events.map(orderOf));
    const placed = events.filter((event) => event.type === 'order.placed');
    const released = events.filter((event) => event.type !== 'order.placed');
    const reserved = placed.flatMap((e) => (e.data as OrderPlacedV1).lines.map((l) => l.sku));
    const held = await reservations.skusHeldBy(tx, released.map(orderOf));
    await reservations.lockStock(tx, [...new Set([...reserved, ...held])].sort());
  };
}
