/**
 * What a SKU is, for every edge that takes one (a request body, a route parameter). The frozen
 * event schemas spell the same pattern out as a literal, since a published schema must never
 * change with a shared constant; the contracts test holds each of them to this one.
 */
export const SKU_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

/** SKU_PATTERN in words, for error messages and API documentation. */
export const SKU_IN_WORDS = '1 to 64 letters, digits, ".", "_" or "-"';
