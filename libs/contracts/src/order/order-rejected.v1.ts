import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Thin notification: which order, its new status and version; details via the order API. */
export interface OrderRejectedV1 {
  orderId: string;
  status: 'REJECTED';
  /** The order's version after this event: drop a notification older than what you hold. */
  version: number;
  occurredAt: string;
  reason: 'OUT_OF_STOCK' | 'RESERVATION_TIMEOUT';
}

// Frozen once published: a change is order-rejected.v2.ts, never an edit of this schema.
export const orderRejectedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'status', 'version', 'occurredAt', 'reason'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    status: { const: 'REJECTED' },
    version: {
      type: 'integer',
      minimum: 1,
      description: "The order's version after this event.",
    },
    occurredAt: { type: 'string', format: 'date-time' },
    reason: {
      enum: ['OUT_OF_STOCK', 'RESERVATION_TIMEOUT'],
      description: 'OUT_OF_STOCK: the inventory refused; RESERVATION_TIMEOUT: no answer in time.',
    },
  },
} as const;

export const orderRejectedV1: Contract<OrderRejectedV1> = {
  type: 'order.rejected',
  version: 1,
  exchange: Exchanges.order,
  source: '/ordering/order',
  dataschema: 'https://ordering.example/schemas/order.rejected/v1.json',
  subjectField: 'orderId',
  description:
    'The order was rejected: out of stock, or no stock answer in time. A thin notification.',
  schema: orderRejectedV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    status: 'REJECTED',
    version: 2,
    occurredAt: '2026-11-28T09:15:01.250Z',
    reason: 'OUT_OF_STOCK',
  },
};
