import { createHash, randomUUID } from 'node:crypto';

/**
 * The id of the order a request places. With an Idempotency-Key it is derived from the customer
 * and the key, so even a retry that finds no stored response (its first attempt died between
 * the append and storing the response) names the same order and cannot place a second one.
 */
export function orderIdFor(customerId: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return randomUUID();
  const hex = createHash('sha256').update(`${customerId}\n${idempotencyKey}`).digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
