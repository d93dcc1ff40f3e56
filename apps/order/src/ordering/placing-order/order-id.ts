import { randomUUID } from 'node:crypto';
import { deterministicUuid } from '@ordering/platform';

/**
 * The id of the order a request places. With an Idempotency-Key it is derived from the customer
 * and the key, so even a retry that finds no stored response (its first attempt died between
 * the append and storing the response) names the same order and cannot place a second one.
 */
export function orderIdFor(customerId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined
    ? randomUUID()
    : deterministicUuid(`order:${customerId}\n${idempotencyKey}`);
}
