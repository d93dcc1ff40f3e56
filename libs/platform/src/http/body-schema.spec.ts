import { describe, expect, it } from '@jest/globals';
import { SchemaBody } from './body-schema.js';
import { ProblemException } from './problem.exception.js';

interface Order {
  items: { sku: string; quantity: number }[];
  note?: string;
}

const order = new SchemaBody<Order>({
  type: 'object',
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string', pattern: '^[A-Z]{1,8}$', description: '1 to 8 capitals' },
          quantity: { type: 'integer', minimum: 1, example: 2 },
        },
        required: ['sku', 'quantity'],
        additionalProperties: false,
      },
    },
    note: { type: 'string', nullable: true },
  },
  required: ['items'],
  additionalProperties: false,
});

function refusal(body: unknown) {
  try {
    order.transform(body, { type: 'body' });
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    return error.getResponse();
  }
  throw new Error('the body was accepted');
}

describe('a body checked by a compiled JSON Schema', () => {
  it('hands a valid body to the handler as it came', () => {
    const body = { items: [{ sku: 'COFFEE', quantity: 2 }] };
    expect(order.transform(body, { type: 'body' })).toBe(body);
  });

  it('names a nested field by its path, array index in brackets, as a 400 validation-failed', () => {
    const problem = refusal({
      items: [
        { sku: 'COFFEE', quantity: 1 },
        { sku: 'MUG', quantity: 0 },
      ],
    });
    expect(problem).toMatchObject({
      status: 400,
      type: expect.stringMatching(/validation-failed$/),
      errors: [{ field: 'items[1].quantity', message: 'must be >= 1' }],
      detail: 'items[1].quantity must be >= 1',
    });
  });

  it('refuses unknown fields at the top and nested, and names missing ones', () => {
    expect(refusal({ items: [{ sku: 'COFFEE', colour: 'red' }], price: 1 }).errors).toEqual(
      expect.arrayContaining([
        { field: 'price', message: 'is not allowed' },
        { field: 'items[0].colour', message: 'is not allowed' },
        { field: 'items[0].quantity', message: 'is required' },
      ]),
    );
    expect(refusal({}).errors).toEqual([{ field: 'items', message: 'is required' }]);
  });

  it('reports every problem at once, a pattern in the words of its description', () => {
    const problem = refusal({ items: [{ sku: 'coffee', quantity: 1.5 }], note: 7 });
    expect(problem.errors).toEqual([
      { field: 'items[0].sku', message: 'must be 1 to 8 capitals' },
      { field: 'items[0].quantity', message: 'must be integer' },
      { field: 'note', message: 'must be string' },
    ]);
  });

  it('refuses a body that is not an object', () => {
    expect(refusal([1]).errors).toEqual([{ field: '(body)', message: 'must be object' }]);
  });
});
