import { Exchanges } from '../exchanges.js';
import type { Contract } from '../cloud-event.js';
import { count, currency, object, sku, stockLines, timestamp, uuid } from './schema-parts.js';

export interface InventoryReservedV1 {
  orderId: string;
  lines: { sku: string; quantity: number }[];
  reservedAt: string;
}

export interface InventoryReservationFailedV1 {
  orderId: string;
  /** The lines stock could not cover. */
  shortLines: { sku: string; requested: number; available: number }[];
  failedAt: string;
}

export interface InventoryReleasedV1 {
  orderId: string;
  lines: { sku: string; quantity: number }[];
  reason: 'ORDER_CANCELLED' | 'ORDER_REJECTED';
  releasedAt: string;
}

/** Event-carried state transfer: the whole product. */
export interface ProductUpdatedV1 {
  sku: string;
  name: string;
  /** In minor units of `currency`. */
  price: number;
  currency: string;
  available: number;
  /** Grows with every change: a consumer drops an update older than what it has. */
  version: number;
  updatedAt: string;
}

const fromInventory = { exchange: Exchanges.inventory, source: '/ordering/inventory' } as const;

export const inventoryReservedV1: Contract<InventoryReservedV1> = {
  type: 'inventory.reserved',
  version: 1,
  ...fromInventory,
  description: 'Every line of the order is reserved.',
  schema: object({ orderId: uuid, lines: stockLines, reservedAt: timestamp }),
};

export const inventoryReservationFailedV1: Contract<InventoryReservationFailedV1> = {
  type: 'inventory.reservation-failed',
  version: 1,
  ...fromInventory,
  description: 'Nothing was reserved: these lines are short.',
  schema: object({
    orderId: uuid,
    shortLines: {
      type: 'array',
      minItems: 1,
      items: object({ sku, requested: count(1), available: count(0) }),
    },
    failedAt: timestamp,
  }),
};

export const inventoryReleasedV1: Contract<InventoryReleasedV1> = {
  type: 'inventory.released',
  version: 1,
  ...fromInventory,
  description: 'The stock an order held is back on sale (it was cancelled or rejected).',
  schema: object({
    orderId: uuid,
    lines: stockLines,
    reason: { enum: ['ORDER_CANCELLED', 'ORDER_REJECTED'] },
    releasedAt: timestamp,
  }),
};

export const productUpdatedV1: Contract<ProductUpdatedV1> = {
  type: 'product.updated',
  version: 1,
  ...fromInventory,
  description: 'A product was created or changed. Carries the whole product.',
  schema: object({
    sku,
    name: { type: 'string', minLength: 1, maxLength: 200 },
    price: count(0),
    currency,
    available: count(0),
    version: count(1),
    updatedAt: timestamp,
  }),
};
