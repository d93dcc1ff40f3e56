import { createHash } from 'node:crypto';

/**
 * A UUID (RFC 9562 version 8) that is a function of `name`: the same thing always gets the same
 * id, so redoing work (a retried request, a republished event) cannot mint a second identity.
 */
export function deterministicUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
