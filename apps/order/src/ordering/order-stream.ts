import { EventTypeRegistry } from '@ordering/event-store';
import type { OrderEvent } from './domain/order.js';

/**
 * The names order events are stored under, each with its current schema version (and upcasters,
 * once needed): the one list of them. Renaming one orphans every stored event of it.
 */
export const orderEventTypes = new EventTypeRegistry<OrderEvent>({
  OrderPlaced: { version: 1 },
  OrderConfirmed: { version: 1 },
  OrderRejected: { version: 1 },
  OrderCancelled: { version: 1 },
});

export const orderStreamId = (orderId: string) => `order-${orderId}`;

/** Order streams snapshot every 100 events; bump shapeVersion whenever `Order` changes shape. */
export const ORDER_SNAPSHOTS = { every: 100, shapeVersion: 1 };
