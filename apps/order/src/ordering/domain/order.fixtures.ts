/**
 * One order's story, shared by the tests of everything that decides about orders (the decider, the
 * fulfilment policy): its ids, the clock of the decisions, a catalogue, and its events.
 */
import type { CatalogueEntry } from './order.decider.js';
import type { OrderCancelled, OrderConfirmed, OrderPlaced, OrderRejected } from './order.js';

export const now = new Date('2026-01-02T03:04:05.000Z');
export const orderId = 'order-1';
export const customerId = 'customer-1';

export const catalogue: ReadonlyMap<string, CatalogueEntry> = new Map([
  ['BOOK-1', { price: 1250, currency: 'EUR' }],
  ['PEN-1', { price: 199, currency: 'EUR' }],
  ['MUG-US', { price: 899, currency: 'USD' }],
  ['CAP-US', { price: 1500, currency: 'USD' }],
  ['TEA-GB', { price: 450, currency: 'GBP' }],
]);

// Earlier events carry earlier times than `now`, so a test sees which clock an event took.
export const placed: OrderPlaced = {
  type: 'OrderPlaced',
  data: {
    orderId,
    customerId,
    lines: [
      { sku: 'BOOK-1', quantity: 2, unitPrice: 1250 },
      { sku: 'PEN-1', quantity: 3, unitPrice: 199 },
    ],
    total: 3097,
    currency: 'EUR',
    placedAt: '2026-01-01T10:00:00.000Z',
  },
};
export const confirmed: OrderConfirmed = {
  type: 'OrderConfirmed',
  data: { orderId, confirmedAt: '2026-01-01T10:00:01.000Z' },
};
export const rejected: OrderRejected = {
  type: 'OrderRejected',
  data: {
    orderId,
    reason: 'OUT_OF_STOCK',
    shortLines: [{ sku: 'PEN-1', requested: 3, available: 0 }],
    rejectedAt: '2026-01-01T10:00:01.000Z',
  },
};
export const cancelled: OrderCancelled = {
  type: 'OrderCancelled',
  data: {
    orderId,
    reason: 'Ordered by mistake',
    cancelledAt: '2026-01-01T10:05:00.000Z',
    previousStatus: 'PENDING',
  },
};
