import { describe, expect, it } from '@jest/globals';
import { ProblemException } from '@ordering/platform';
import { placeOrderBody } from './place-order.request.js';

const lines = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ sku: `SKU-${index + 1}`, quantity: 1 }));

function errorsFor(body: unknown): unknown {
  try {
    placeOrderBody.transform(body, { type: 'body' });
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    return error.getResponse().errors;
  }
  throw new Error('the body was accepted');
}

describe('the body of POST /orders', () => {
  it.each([1, 1000])('accepts %i units of a SKU', (quantity) => {
    const body = { items: [{ sku: 'BOOK-1', quantity }] };
    expect(placeOrderBody.transform(body, { type: 'body' })).toBe(body);
  });

  it.each([0, 1001, -1, 1.5])('refuses %p units, naming the line', (quantity) => {
    expect(
      errorsFor({
        items: [
          { sku: 'BOOK-1', quantity: 1 },
          { sku: 'PEN-1', quantity },
        ],
      }),
    ).toEqual([{ field: 'items[1].quantity', message: expect.any(String) }]);
  });

  it('refuses an order without lines', () => {
    expect(errorsFor({ items: [] })).toEqual([
      { field: 'items', message: 'must NOT have fewer than 1 items' },
    ]);
  });

  it('accepts 100 lines', () => {
    const body = { items: lines(100) };
    expect(placeOrderBody.transform(body, { type: 'body' })).toBe(body);
  });

  it('refuses 101 lines', () => {
    expect(errorsFor({ items: lines(101) })).toEqual([
      { field: 'items', message: 'must NOT have more than 100 items' },
    ]);
  });
});
