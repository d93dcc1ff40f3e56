import { ApiProperty } from '@nestjs/swagger';
import { SKU_IN_WORDS, SKU_PATTERN } from '@ordering/contracts';
import { SchemaBody } from '@ordering/platform';

export interface PlaceOrderRequest {
  items: { sku: string; quantity: number }[];
}

/**
 * The edge owns the shape of an order and its limits: a request outside them is refused with a
 * 400 naming the field, before it becomes a command. The decider owns the rules that need the
 * catalogue or the order's state (unknown or repeated SKUs, currencies, status), answered 422/409.
 */
export const MAX_LINES = 100;
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 1000;

/** The body of `POST /orders`, compiled once: the hottest request body we take. */
export const placeOrderBody = new SchemaBody<PlaceOrderRequest>({
  type: 'object',
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_LINES,
      items: {
        type: 'object',
        properties: {
          sku: {
            type: 'string',
            pattern: SKU_PATTERN,
            description: SKU_IN_WORDS,
            example: 'SKU-COFFEE-1KG',
          },
          quantity: { type: 'integer', minimum: MIN_QUANTITY, maximum: MAX_QUANTITY, example: 2 },
        },
        required: ['sku', 'quantity'],
        additionalProperties: false,
      },
    },
  },
  required: ['items'],
  additionalProperties: false,
});

export class PlaceOrderResponse {
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty({ enum: ['PENDING'] }) status!: 'PENDING';
}
