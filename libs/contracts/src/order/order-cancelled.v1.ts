import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Thin notification: which order, its new status and version; details via the order API. */
export interface OrderCancelledV1 {
  orderId: string;
  status: 'CANCELLED';
  /** The order's version after this event: drop a notification older than what you hold. */
  version: number;
  occurredAt: string;
  /** Free text, as the customer gave it. */
  reason: string;
}

// Frozen once published: a change is order-cancelled.v2.ts, never an edit of this schema.
export const orderCancelledV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'status', 'version', 'occurredAt', 'reason'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    status: { const: 'CANCELLED' },
    version: {
      type: 'integer',
      minimum: 1,
      description: "The order's version after this event.",
    },
    occurredAt: { type: 'string', format: 'date-time' },
    reason: { type: 'string', minLength: 1, maxLength: 500, description: 'Free text.' },
  },
} as const;

export const orderCancelledV1: Contract<OrderCancelledV1> = {
  type: 'order.cancelled',
  version: 1,
  exchange: Exchanges.order,
  source: '/ordering/order',
  dataschema: 'https://ordering.example/schemas/order.cancelled/v1.json',
  subjectField: 'orderId',
  description:
    'The customer cancelled the order; any stock it holds is to be released. A thin notification.',
  schema: orderCancelledV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    status: 'CANCELLED',
    version: 3,
    occurredAt: '2026-11-28T10:02:41.000Z',
    reason: 'Ordered by mistake',
  },
};
