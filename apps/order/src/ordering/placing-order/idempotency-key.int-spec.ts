import { describe, expect, it } from '@jest/globals';
import { Database } from '@ordering/platform';
import { tokenFor } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { orderIdFor } from './order-id.js';
import { orderApiForTests } from '../order-api.test-support.js';

describe('Idempotency-Key on the order API (real PostgreSQL)', () => {
  const api = orderApiForTests('order_idempotency');
  const { request, place } = api;

  describe('Idempotency-Key', () => {
    const countOrders = async (token: string) =>
      (await request('GET', '/orders?limit=100', { token })).body.items.length;

    it('replays the first response to a retry with the same key and body, placing one order', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const key = { 'idempotency-key': randomUUID() };
      const first = await place([{ sku: 'MUG', quantity: 3 }], customer, key);
      const retry = await place([{ sku: 'MUG', quantity: 3 }], customer, key);

      expect(first.status).toBe(202);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('location')).toBe(first.headers.get('location'));
      expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await countOrders(customer)).toBe(1);
    });

    it('refuses the same key with a different body (422)', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const key = { 'idempotency-key': randomUUID() };
      await place([{ sku: 'MUG', quantity: 1 }], customer, key);
      const other = await place([{ sku: 'MUG', quantity: 2 }], customer, key);
      expect(other.status).toBe(422);
      expect(await countOrders(customer)).toBe(1);
    });

    it('makes a retry sent while the first is still running wait for it, and answer as it did', async () => {
      const customerId = `customer-${randomUUID()}`;
      const key = { 'idempotency-key': randomUUID() };
      const items = [{ sku: 'MUG', quantity: 1 }];
      // Hold the first placement just before its COMMIT.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const isHeld = new Promise<void>((resolve) => (holding = resolve));
      const orderId = orderIdFor(customerId, key['idempotency-key']);
      const stopHolding = api.app.get(Database).observeStatements(async (statement) => {
        if (statement.label === `append to order-${orderId}` && statement.text === 'COMMIT') {
          holding();
          await held;
        }
      });
      try {
        const first = place(items, tokenFor(customerId), key);
        await isHeld;
        const retry = place(items, tokenFor(customerId), key);
        await new Promise((resolve) => setTimeout(resolve, 200));
        release();
        const [one, two] = await Promise.all([first, retry]);
        expect(one.status).toBe(202);
        expect(two.status).toBe(202);
        expect(two.body).toEqual(one.body);
        expect(await countOrders(tokenFor(customerId))).toBe(1);
      } finally {
        stopHolding();
      }
    });

    it('keeps keys per customer', async () => {
      const key = { 'idempotency-key': randomUUID() };
      const one = await place([{ sku: 'MUG', quantity: 1 }], tokenFor(`c-${randomUUID()}`), key);
      const two = await place([{ sku: 'MUG', quantity: 1 }], tokenFor(`c-${randomUUID()}`), key);
      expect(two.status).toBe(202);
      expect(two.body.orderId).not.toBe(one.body.orderId);
    });

    it('lets a corrected retry reuse the key of a refused request', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const key = { 'idempotency-key': randomUUID() };
      expect((await place([{ sku: 'NOPE', quantity: 1 }], customer, key)).status).toBe(422);
      expect((await place([{ sku: 'NOPE', quantity: 1 }], customer, key)).status).toBe(422);
    });
  });
});
