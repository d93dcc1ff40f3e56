import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Every line of the order is held back for it: all or nothing. */
export interface InventoryReservedV1 {
  orderId: string;
  lines: { sku: string; quantity: number }[];
  reservedAt: string;
}

// Frozen once published: a change is inventory-reserved.v2.ts, never an edit of this schema.
export const inventoryReservedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'lines', 'reservedAt'],
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
    reservedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const inventoryReservedV1: Contract<InventoryReservedV1> = {
  type: 'inventory.reserved',
  version: 1,
  exchange: Exchanges.inventory,
  source: '/ordering/inventory',
  dataschema: 'https://ordering.example/schemas/inventory.reserved/v1.json',
  subjectField: 'orderId',
  description: 'Every line of the order is reserved (all or nothing).',
  schema: inventoryReservedV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    lines: [
      { sku: 'COFFEE-BEANS-1KG', quantity: 2 },
      { sku: 'FILTER-PAPER-100', quantity: 1 },
    ],
    reservedAt: '2026-11-28T09:15:00.800Z',
  },
};
