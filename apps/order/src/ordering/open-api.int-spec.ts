import { describe, expect, it } from '@jest/globals';
import { unboundedInputs } from '@ordering/testing';
import { orderApiForTests } from './order-api.test-support.js';

describe('the order service’s OpenAPI document', () => {
  const { request } = orderApiForTests('order_openapi');

  it('serves its OpenAPI document', async () => {
    const document = await request('GET', '/docs-json');
    expect(document.status).toBe(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining([
        '/orders',
        '/orders/{orderId}',
        '/orders/{orderId}/events',
        '/orders/{orderId}/cancel',
        '/catalogue',
      ]),
    );
  });

  it('documents a bound for every input it takes: lengths, maxima and sizes', async () => {
    const document = await request('GET', '/docs-json');
    expect(unboundedInputs(document.body)).toEqual([]);
  });
});
