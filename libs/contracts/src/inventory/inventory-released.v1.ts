import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** The stock an order held is back on sale; published at most once per order. */
export interface InventoryReleasedV1 {
  orderId: string;
  lines: { sku: string; quantity: number }[];
  reason: 'ORDER_CANCELLED' | 'ORDER_REJECTED';
  releasedAt: string;
}

// Frozen once published: a change is inventory-released.v2.ts, never an edit of this schema.
export const inventoryReleasedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'lines', 'reason', 'releasedAt'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    lines: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'quantity'],
        properties: {
          sku: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          quantity: { type: 'integer', minimum: 1 },
        },
      },
    },
    reason: { enum: ['ORDER_CANCELLED', 'ORDER_REJECTED'] },
    releasedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const inventoryReleasedV1: Contract<InventoryReleasedV1> = {
  type: 'inventory.released',
  version: 1,
  exchange: Exchanges.inventory,
  source: '/ordering/inventory',
  dataschema: 'https://ordering.example/schemas/inventory.released/v1.json',
  subjectField: 'orderId',
  description: 'The stock an order held is back on sale: the order was cancelled or rejected.',
  schema: inventoryReleasedV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2 }],
    reason: 'ORDER_CANCELLED',
    releasedAt: '2026-11-28T10:02:41.500Z',
  },
};
