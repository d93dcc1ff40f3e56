import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Thin notification: which order, its new status and version; details via the order API. */
export interface OrderConfirmedV1 {
  orderId: string;
  status: 'CONFIRMED';
  /** The order's version after this event: drop a notification older than what you hold. */
  version: number;
  occurredAt: string;
}

// Frozen once published: a change is order-confirmed.v2.ts, never an edit of this schema.
export const orderConfirmedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'status', 'version', 'occurredAt'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    status: { const: 'CONFIRMED' },
    version: {
      type: 'integer',
      minimum: 1,
      description: "The order's version after this event.",
    },
    occurredAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const orderConfirmedV1: Contract<OrderConfirmedV1> = {
  type: 'order.confirmed',
  version: 1,
  exchange: Exchanges.order,
  source: '/ordering/order',
  dataschema: 'https://ordering.example/schemas/order.confirmed/v1.json',
  subjectField: 'orderId',
  description: 'The order is confirmed: all its stock is reserved. A thin notification.',
  schema: orderConfirmedV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    status: 'CONFIRMED',
    version: 2,
    occurredAt: '2026-11-28T09:15:01.250Z',
  },
};
