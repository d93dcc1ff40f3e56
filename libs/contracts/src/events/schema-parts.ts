/** Pieces shared by the payload schemas. Copied into each schema, never referenced by $ref. */
export const uuid = { type: 'string', format: 'uuid' } as const;
export const sku = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } as const;
export const timestamp = { type: 'string', format: 'date-time' } as const;
export const currency = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
export const count = (minimum: number) => ({ type: 'integer', minimum }) as const;

export const object = (properties: Record<string, unknown>, optional: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  properties,
});

export const stockLines = {
  type: 'array',
  minItems: 1,
  items: object({ sku, quantity: count(1) }),
} as const;
