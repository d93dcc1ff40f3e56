import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Event-carried state transfer: the whole order, priced, so no consumer needs to call back. */
export interface OrderPlacedV1 {
  orderId: string;
  /** The customer who placed it (the `sub` of their token). */
  customerId: string;
  lines: { sku: string; quantity: number; unitPrice: number }[];
  /** Minor units of `currency` (cents): the sum of quantity × unitPrice. */
  total: number;
  /** ISO 4217. */
  currency: string;
  placedAt: string;
  /** The order's version after this event: 1. */
  version: number;
}

// Frozen once published: a change is order-placed.v2.ts, never an edit of this schema.
export const orderPlacedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'customerId', 'lines', 'total', 'currency', 'placedAt', 'version'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    customerId: { type: 'string', minLength: 1 },
    lines: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'quantity', 'unitPrice'],
        properties: {
          sku: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          quantity: { type: 'integer', minimum: 1 },
          unitPrice: {
            type: 'integer',
            minimum: 0,
            description: 'Minor units of currency (cents).',
          },
        },
      },
    },
    total: { type: 'integer', minimum: 0, description: 'Minor units of currency (cents).' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code.' },
    placedAt: { type: 'string', format: 'date-time' },
    version: {
      type: 'integer',
      minimum: 1,
      description: "The order's version after this event.",
    },
  },
} as const;

export const orderPlacedV1: Contract<OrderPlacedV1> = {
  type: 'order.placed',
  version: 1,
  exchange: Exchanges.order,
  source: '/ordering/order',
  dataschema: 'https://ordering.example/schemas/order.placed/v1.json',
  subjectField: 'orderId',
  description:
    'An order was placed and awaits stock. Carries the whole order, priced (event-carried state transfer).',
  schema: orderPlacedV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    customerId: 'customer-1',
    lines: [
      { sku: 'COFFEE-BEANS-1KG', quantity: 2, unitPrice: 1850 },
      { sku: 'FILTER-PAPER-100', quantity: 1, unitPrice: 399 },
    ],
    total: 4099,
    currency: 'EUR',
    placedAt: '2026-11-28T09:15:00.000Z',
    version: 1,
  },
};
