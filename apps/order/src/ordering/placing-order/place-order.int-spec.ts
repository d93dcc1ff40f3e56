import { describe, expect, it } from '@jest/globals';
import { tokenFor } from '@ordering/testing';
import { alice, orderApiForTests } from '../order-api.test-support.js';

describe('POST /orders (order service, real PostgreSQL)', () => {
  const { request, place } = orderApiForTests('order_place');

  describe('POST /orders', () => {
    it('places an order priced from the catalogue: 202, Location, ETag, then readable', async () => {
      const placed = await place([
        { sku: 'COFFEE', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ]);

      expect(placed.status).toBe(202);
      expect(placed.body).toEqual({ orderId: expect.any(String), status: 'PENDING' });
      expect(placed.headers.get('location')).toBe(`/orders/${placed.body.orderId}`);
      expect(placed.headers.get('etag')).toBe('"1"');

      const order = await request('GET', `/orders/${placed.body.orderId}`, { token: alice });
      expect(order.status).toBe(200);
      expect(order.headers.get('etag')).toBe('"1"');
      expect(order.body).toMatchObject({
        orderId: placed.body.orderId,
        customerId: 'customer-alice',
        status: 'PENDING',
        items: [
          { sku: 'COFFEE', quantity: 2, unitPrice: 1899 },
          { sku: 'MUG', quantity: 1, unitPrice: 900 },
        ],
        total: 2 * 1899 + 900,
        currency: 'EUR',
        version: 1,
      });
    });

    it('answers 401 without a valid token', async () => {
      expect((await request('POST', '/orders', { body: { items: [] } })).status).toBe(401);
      const forged = tokenFor('customer-alice', { secret: 'not-the-secret-at-all' });
      const response = await place([{ sku: 'COFFEE', quantity: 1 }], forged);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 400 naming the field at fault', async () => {
      const response = await place([{ sku: 'COFFEE', quantity: 0 }]);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.errors).toEqual([
        { field: 'items[0].quantity', message: expect.stringContaining('1') },
      ]);
    });

    it('answers 400 naming an unknown field', async () => {
      const unknown = await request('POST', '/orders', {
        token: alice,
        body: { items: [{ sku: 'COFFEE', quantity: 1 }], price: 1 },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([{ field: 'price', message: expect.any(String) }]);
    });

    it('answers 400 for malformed JSON', async () => {
      const malformed = await request('POST', '/orders', { token: alice, rawBody: '{"items": [' });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 413 for a body over 64 KiB', async () => {
      const response = await request('POST', '/orders', {
        token: alice,
        rawBody: JSON.stringify({ items: [], padding: 'x'.repeat(70 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 422 listing unknown SKUs', async () => {
      const unknown = await place([
        { sku: 'NOPE-2', quantity: 1 },
        { sku: 'COFFEE', quantity: 1 },
        { sku: 'NOPE-1', quantity: 1 },
      ]);
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({
        type: expect.stringContaining('unknown-skus'),
        skus: ['NOPE-2', 'NOPE-1'],
      });
    });

    it('answers 422 naming a SKU on more than one line', async () => {
      const duplicate = await place([
        { sku: 'MUG', quantity: 1 },
        { sku: 'MUG', quantity: 2 },
      ]);
      expect(duplicate.status).toBe(422);
      expect(duplicate.body.skus).toEqual(['MUG']);
    });

    it('answers 422 for lines priced in more than one currency', async () => {
      const mixed = await place([
        { sku: 'MUG', quantity: 1 },
        { sku: 'TEA-USD', quantity: 1 },
      ]);
      expect(mixed.status).toBe(422);
    });
  });

  it('documents the body of POST /orders with the limits it checks', async () => {
    const document = await request('GET', '/docs-json');
    const body = document.body.paths['/orders'].post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({
      required: ['items'],
      additionalProperties: false,
      properties: {
        items: {
          minItems: 1,
          maxItems: 100,
          items: {
            properties: {
              sku: { pattern: '^[A-Za-z0-9._-]{1,64}$' },
              quantity: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        },
      },
    });
  });
});
