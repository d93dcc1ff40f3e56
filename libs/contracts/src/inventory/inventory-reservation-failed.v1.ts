import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Nothing was reserved, because these lines are short. */
export interface InventoryReservationFailedV1 {
  orderId: string;
  /** The lines stock could not cover (an unknown SKU has none available). */
  shortLines: { sku: string; requested: number; available: number }[];
  failedAt: string;
}

// Frozen once published: a change is inventory-reservation-failed.v2.ts, never an edit.
export const inventoryReservationFailedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'shortLines', 'failedAt'],
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    shortLines: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'requested', 'available'],
        properties: {
          sku: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          requested: { type: 'integer', minimum: 1 },
          available: { type: 'integer', minimum: 0 },
        },
      },
    },
    failedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const inventoryReservationFailedV1: Contract<InventoryReservationFailedV1> = {
  type: 'inventory.reservation-failed',
  version: 1,
  exchange: Exchanges.inventory,
  source: '/ordering/inventory',
  dataschema: 'https://ordering.example/schemas/inventory.reservation-failed/v1.json',
  subjectField: 'orderId',
  description: 'Nothing was reserved for the order: these lines are short.',
  schema: inventoryReservationFailedV1Schema,
  example: {
    orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
    shortLines: [{ sku: 'COFFEE-BEANS-1KG', requested: 2, available: 1 }],
    failedAt: '2026-11-28T09:15:00.800Z',
  },
};
