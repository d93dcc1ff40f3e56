import type { Contract } from './cloud-event.js';
import { inventoryReleasedV1 } from './inventory/inventory-released.v1.js';
import { inventoryReservationFailedV1 } from './inventory/inventory-reservation-failed.v1.js';
import { inventoryReservedV1 } from './inventory/inventory-reserved.v1.js';
import { productUpdatedV1 } from './inventory/product-updated.v1.js';
import { orderCancelledV1 } from './order/order-cancelled.v1.js';
import { orderConfirmedV1 } from './order/order-confirmed.v1.js';
import { orderPlacedV1 } from './order/order-placed.v1.js';
import { orderRejectedV1 } from './order/order-rejected.v1.js';

/**
 * Every published event type and version: the one table that maps a `dataschema` to its code.
 * A new version is added here next to the old one, which stays for as long as a message of it
 * may still be in a queue, a dead-letter queue or an outbox.
 */
export const contracts: readonly Contract[] = [
  orderPlacedV1,
  orderConfirmedV1,
  orderRejectedV1,
  orderCancelledV1,
  inventoryReservedV1,
  inventoryReservationFailedV1,
  inventoryReleasedV1,
  productUpdatedV1,
];

/** The contract of `type` at `version`, or at its latest version when none is given. */
export function contractFor(type: string, version?: number): Contract | undefined {
  const versions = contracts.filter((contract) => contract.type === type);
  if (version !== undefined) return versions.find((contract) => contract.version === version);
  return versions.reduce<Contract | undefined>(
    (latest, contract) => (latest && latest.version > contract.version ? latest : contract),
    undefined,
  );
}
