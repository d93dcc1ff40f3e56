import type { ValueTransformer } from 'typeorm';

/**
 * `bigint` columns come back from pg as strings; amounts in minor units stay far below 2^53,
 * so they are safe as numbers.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
