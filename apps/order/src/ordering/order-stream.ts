import { EventTypeRegistry } from '@ordering/event-store';
import type { OrderEvent } from './domain/order.js';

/** Every stored order event type with its current schema version (and upcasters, once needed). */
export const orderEventTypes = new EventTypeRegistry({
  OrderPlaced: { version: 1 },
  OrderConfirmed: { version: 1 },
  OrderRejected: { version: 1 },
  OrderCancelled: { version: 1 },
} satisfies Record<OrderEvent['type'], unknown>);

export const orderStreamId = (orderId: string) => `order-${orderId}`;

/** Order streams snapshot every 100 events; bump shapeVersion whenever `Order` changes shape. */
export const ORDER_SNAPSHOTS = { every: 100, shapeVersion: 1 };
