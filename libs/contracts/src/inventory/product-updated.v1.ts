import type { Contract } from '../cloud-event.js';
import { Exchanges } from '../exchanges.js';

/** Event-carried state transfer: the whole product, so replicas never need to call back. */
export interface ProductUpdatedV1 {
  sku: string;
  name: string;
  /** Minor units of `currency` (cents). */
  price: number;
  /** ISO 4217. */
  currency: string;
  /** Units that can still be reserved. */
  available: number;
  /** The product's version; grows with every change: drop an update older than what you hold. */
  version: number;
  updatedAt: string;
}

// Frozen once published: a change is product-updated.v2.ts, never an edit of this schema.
export const productUpdatedV1Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'name', 'price', 'currency', 'available', 'version', 'updatedAt'],
  properties: {
    sku: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    price: { type: 'integer', minimum: 0, description: 'Minor units of currency (cents).' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code.' },
    available: { type: 'integer', minimum: 0, description: 'Units that can still be reserved.' },
    version: {
      type: 'integer',
      minimum: 1,
      description: "The product's version: drop an update older than the one you hold.",
    },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const productUpdatedV1: Contract<ProductUpdatedV1> = {
  type: 'product.updated',
  version: 1,
  exchange: Exchanges.inventory,
  source: '/ordering/inventory',
  dataschema: 'https://ordering.example/schemas/product.updated/v1.json',
  subjectField: 'sku',
  description:
    'A product was created or changed (price, name, stock on sale). Carries the whole product (event-carried state transfer).',
  schema: productUpdatedV1Schema,
  example: {
    sku: 'COFFEE-BEANS-1KG',
    name: 'Coffee beans, 1 kg',
    price: 1850,
    currency: 'EUR',
    available: 118,
    version: 7,
    updatedAt: '2026-11-28T09:15:00.800Z',
  },
};
