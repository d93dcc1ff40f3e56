import { Exchanges } from '../exchanges.js';
import type { Contract } from '../cloud-event.js';
import { count, currency, object, sku, timestamp, uuid } from './schema-parts.js';

/** Event-carried state transfer: the whole order, so no consumer needs to call back. */
export interface OrderPlacedV1 {
  orderId: string;
  customerId: string;
  /** Prices in minor units of `currency` (cents). */
  lines: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  placedAt: string;
  /** The order's version after this event: 1. */
  version: number;
}

/** Thin notifications: what happened to which order, at which version; details via the API. */
interface OrderNotification<Status extends string> {
  orderId: string;
  status: Status;
  version: number;
  occurredAt: string;
}
export type OrderConfirmedV1 = OrderNotification<'CONFIRMED'>;
export interface OrderRejectedV1 extends OrderNotification<'REJECTED'> {
  reason: 'OUT_OF_STOCK' | 'RESERVATION_TIMEOUT';
}
export interface OrderCancelledV1 extends OrderNotification<'CANCELLED'> {
  reason: string;
}

const fromOrders = { exchange: Exchanges.order, source: '/ordering/order' } as const;

const notification = (status: string, extra: Record<string, unknown> = {}) =>
  object({
    orderId: uuid,
    status: { const: status },
    version: count(1),
    occurredAt: timestamp,
    ...extra,
  });

export const orderPlacedV1: Contract<OrderPlacedV1> = {
  type: 'order.placed',
  version: 1,
  ...fromOrders,
  description: 'An order was placed and awaits stock. Carries the whole order, priced.',
  schema: object({
    orderId: uuid,
    customerId: { type: 'string', minLength: 1 },
    lines: {
      type: 'array',
      minItems: 1,
      items: object({ sku, quantity: count(1), unitPrice: count(0) }),
    },
    total: count(0),
    currency,
    placedAt: timestamp,
    version: count(1),
  }),
};

export const orderConfirmedV1: Contract<OrderConfirmedV1> = {
  type: 'order.confirmed',
  version: 1,
  ...fromOrders,
  description: 'The order is confirmed: its stock is reserved.',
  schema: notification('CONFIRMED'),
};

export const orderRejectedV1: Contract<OrderRejectedV1> = {
  type: 'order.rejected',
  version: 1,
  ...fromOrders,
  description: 'The order was rejected: out of stock, or no stock answer in time.',
  schema: notification('REJECTED', { reason: { enum: ['OUT_OF_STOCK', 'RESERVATION_TIMEOUT'] } }),
};

export const orderCancelledV1: Contract<OrderCancelledV1> = {
  type: 'order.cancelled',
  version: 1,
  ...fromOrders,
  description: 'The customer cancelled the order; any stock it held is to be released.',
  schema: notification('CANCELLED', { reason: { type: 'string', minLength: 1, maxLength: 500 } }),
};
