import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { alice, bob, orderApiForTests } from '../order-api.test-support.js';

describe('POST /orders/:id/cancel (real PostgreSQL)', () => {
  const { request, place } = orderApiForTests('order_cancel');

  describe('POST /orders/:id/cancel', () => {
    /** A pending order of Alice's, at version 1, and the path that cancels it. */
    async function pendingOrder() {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      return { orderId: placed.body.orderId, path: `/orders/${placed.body.orderId}/cancel` };
    }

    it('cancels with a matching If-Match, answering the new version and its ETag', async () => {
      const { orderId, path } = await pendingOrder();
      const cancelled = await request('POST', path, {
        token: alice,
        body: {},
        headers: { 'if-match': '"1"' },
      });
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toEqual({
        orderId,
        status: 'CANCELLED',
        version: 2,
      });
      expect(cancelled.headers.get('etag')).toBe('"2"');
    });

    it('refuses a stale If-Match with 412, leaving the order as it was', async () => {
      const { orderId, path } = await pendingOrder();
      const stale = await request('POST', path, {
        token: alice,
        body: {},
        headers: { 'if-match': '"7"' },
      });
      expect(stale.status).toBe(412);
      expect((await request('GET', `/orders/${orderId}`, { token: alice })).body).toMatchObject({
        status: 'PENDING',
        version: 1,
      });
    });

    it('refuses to cancel a cancelled order again with 409', async () => {
      const { path } = await pendingOrder();
      await request('POST', path, { token: alice, body: {}, headers: { 'if-match': '"1"' } });
      const again = await request('POST', path, { token: alice, body: {} });
      expect(again.status).toBe(409);
      expect(again.body.type).toContain('order-is-final');
    });

    it('answers 404 for another customer’s order', async () => {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}/cancel`;
      expect((await request('POST', path, { token: bob, body: {} })).status).toBe(404);
    });

    it('answers 404 for another customer’s order whatever If-Match it sends, so a 412 never tells it exists', async () => {
      const { path } = await pendingOrder();
      const stale = await request('POST', path, {
        token: bob,
        body: {},
        headers: { 'if-match': '"7"' },
      });
      expect(stale.status).toBe(404);
    });

    it('answers 400 for a malformed If-Match, leaving the order as it was', async () => {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}/cancel`;
      const malformed = await request('POST', path, {
        token: alice,
        body: {},
        headers: { 'if-match': 'v1' },
      });
      expect(malformed.status).toBe(400);
      expect(
        (await request('GET', `/orders/${placed.body.orderId}`, { token: alice })).body.status,
      ).toBe('PENDING');
    });

    it('replays a cancel retried with the same Idempotency-Key', async () => {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}/cancel`;
      const key = { 'idempotency-key': randomUUID() };
      const first = await request('POST', path, { token: alice, body: {}, headers: key });
      const retry = await request('POST', path, { token: alice, body: {}, headers: key });
      expect(first.status).toBe(202);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
    });
  });
});
