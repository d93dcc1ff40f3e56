import { describe, expect, it } from '@jest/globals';
import { alice, orderApiForTests } from '../ordering/order-api.test-support.js';

describe('the catalogue replica over HTTP (real PostgreSQL)', () => {
  const { request } = orderApiForTests('order_catalogue');

  it('shows the catalogue replica', async () => {
    const catalogue = await request('GET', '/catalogue', { token: alice });
    expect(catalogue.status).toBe(200);
    expect(catalogue.body.map((p: { sku: string }) => p.sku)).toEqual(['COFFEE', 'MUG', 'TEA-USD']);
    expect(catalogue.body[0]).toMatchObject({ name: 'Coffee beans', price: 1899, currency: 'EUR' });
  });
});
