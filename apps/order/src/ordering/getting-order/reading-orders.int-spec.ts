import { describe, expect, it } from '@jest/globals';
import { ORDER_API_ROLES } from '@ordering/contracts';
import { tokenFor } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { admin, alice, bob, orderApiForTests } from '../order-api.test-support.js';

describe('reading orders (order service, real PostgreSQL)', () => {
  const { request, place } = orderApiForTests('order_reading');

  describe('reading orders', () => {
    /** The path of a new order of Alice's. */
    const alicesOrder = async () =>
      `/orders/${(await place([{ sku: 'COFFEE', quantity: 1 }], alice)).body.orderId}`;

    it('answers 404 to another customer asking for an order or its audit trail', async () => {
      const path = await alicesOrder();
      expect((await request('GET', path, { token: bob })).status).toBe(404);
      expect((await request('GET', `${path}/events`, { token: bob })).status).toBe(404);
    });

    it('shows admins any customer’s order', async () => {
      const path = await alicesOrder();
      expect((await request('GET', path, { token: admin })).status).toBe(200);
    });

    it('answers 404 for an order that does not exist', async () => {
      expect((await request('GET', `/orders/${randomUUID()}`, { token: alice })).status).toBe(404);
    });

    it('answers another customer’s order with the same 404 from every route, as if it did not exist', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }], alice);
      const path = `/orders/${placed.body.orderId}`;
      const answers = [
        await request('GET', path, { token: bob }),
        await request('GET', `${path}/events`, { token: bob }),
        await request('POST', `${path}/cancel`, { token: bob, body: {} }),
      ];
      const missing = await request('POST', `/orders/${randomUUID()}/cancel`, {
        token: bob,
        body: {},
      });
      for (const answer of [...answers, missing]) {
        expect(answer.status).toBe(404);
        expect(answer.body.type).toMatch(/order-not-found$/);
      }
      expect(new Set(answers.map((answer) => answer.body.title))).toEqual(
        new Set([`Order ${placed.body.orderId} does not exist`]),
      );
    });

    it('answers 400 for a malformed order id', async () => {
      const response = await request('GET', '/orders/not-a-uuid', { token: alice });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    /** A new customer with five orders, oldest first, the second of them cancelled. */
    async function customerWithFiveOrders() {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await place([{ sku: 'MUG', quantity: 1 }], customer)).body.orderId);
      await request('POST', `/orders/${ids[1]}/cancel`, { token: customer, body: {} });
      return { customer, ids };
    }

    it('lists the caller’s orders newest first, a cursor page at a time', async () => {
      const { customer, ids } = await customerWithFiveOrders();
      const pages: string[][] = [];
      let cursor = '';
      do {
        const page = await request('GET', `/orders?limit=2${cursor && `&cursor=${cursor}`}`, {
          token: customer,
        });
        expect(page.status).toBe(200);
        pages.push(page.body.items.map((o: { orderId: string }) => o.orderId));
        cursor = page.body.nextCursor ?? '';
      } while (cursor);
      expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);
    });

    it('lists only the caller’s orders in the status asked for', async () => {
      const { customer, ids } = await customerWithFiveOrders();
      const cancelled = await request('GET', '/orders?status=CANCELLED', { token: customer });
      expect(cancelled.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([ids[1]]);
    });

    it('refuses a list with a malformed limit, status or cursor with 400', async () => {
      const { customer } = await customerWithFiveOrders();
      expect((await request('GET', '/orders?limit=0', { token: customer })).status).toBe(400);
      expect((await request('GET', '/orders?status=LOST', { token: customer })).status).toBe(400);
      expect((await request('GET', '/orders?cursor=garbage', { token: customer })).status).toBe(
        400,
      );
    });

    /** An order placed, then cancelled: two events to read back. */
    async function placedThenCancelled() {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}`;
      const cancelled = await request('POST', `${path}/cancel`, {
        token: alice,
        body: { reason: 'changed my mind' },
      });
      expect(cancelled.status).toBe(202);
      return path;
    }

    it('gives the audit trail: every event, oldest first, with what caused it', async () => {
      const path = await placedThenCancelled();
      const events = await request('GET', `${path}/events`, { token: alice });
      expect(events.status).toBe(200);
      expect(
        events.body.map((e: { type: string; version: number }) => [e.type, e.version]),
      ).toEqual([
        ['OrderPlaced', 1],
        ['OrderCancelled', 2],
      ]);
      expect(events.body[1].data).toMatchObject({
        reason: 'changed my mind',
        previousStatus: 'PENDING',
      });
      expect(events.body[0].metadata).toMatchObject({ userId: 'customer-alice' });
    });

    it('shows the order as it was at a version', async () => {
      const path = await placedThenCancelled();
      const atVersion1 = await request('GET', `${path}?version=1`, { token: alice });
      expect(atVersion1.body).toMatchObject({ status: 'PENDING', version: 1 });
    });

    it('shows the order as it was at an instant', async () => {
      const path = await placedThenCancelled();
      const events = await request('GET', `${path}/events`, { token: alice });
      const atPlacement = await request('GET', `${path}?at=${events.body[0].time}`, {
        token: alice,
      });
      expect(atPlacement.body).toMatchObject({ status: 'PENDING', version: 1 });
    });

    it('shows the order as it is now when asked for no version or instant', async () => {
      const path = await placedThenCancelled();
      const now = await request('GET', path, { token: alice });
      expect(now.body).toMatchObject({
        status: 'CANCELLED',
        reason: 'changed my mind',
        version: 2,
      });
    });

    it('answers 404 for an instant before the order was placed', async () => {
      const path = await placedThenCancelled();
      const before = await request('GET', `${path}?at=2000-01-01T00:00:00Z`, { token: alice });
      expect(before.status).toBe(404);
    });

    it('refuses a malformed instant with 400', async () => {
      const path = await placedThenCancelled();
      expect((await request('GET', `${path}?at=yesterday`, { token: alice })).status).toBe(400);
    });
  });

  describe('a service with the order-reader role (the notification service)', () => {
    const reader = tokenFor('notification-service', { roles: [ORDER_API_ROLES.orderReader] });

    it('reads any one order as it is now', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }], alice);
      const read = await request('GET', `/orders/${placed.body.orderId}`, { token: reader });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        orderId: placed.body.orderId,
        customerId: 'customer-alice',
      });
    });

    it('is told the order does not exist when it asks for its history or a past state', async () => {
      const path = `/orders/${(await place([{ sku: 'COFFEE', quantity: 1 }], alice)).body.orderId}`;
      for (const asked of [`${path}/events`, `${path}?version=1`]) {
        const answer = await request('GET', asked, { token: reader });
        expect(answer.status).toBe(404);
        expect(answer.body.type).toMatch(/order-not-found$/);
      }
    });

    it('lists no one’s orders but its own, which are none', async () => {
      await place([{ sku: 'COFFEE', quantity: 1 }], alice);
      const another = await request('GET', '/orders?customerId=customer-alice', { token: reader });
      expect(another.status).toBe(403);
      const own = await request('GET', '/orders', { token: reader });
      expect(own.body.items).toEqual([]);
    });

    it('cannot cancel an order, which stays as it was', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }], alice);
      const cancel = await request('POST', `/orders/${placed.body.orderId}/cancel`, {
        token: reader,
        body: {},
      });
      expect(cancel.status).toBe(404);
      const still = await request('GET', `/orders/${placed.body.orderId}`, { token: alice });
      expect(still.body.status).not.toBe('CANCELLED');
    });
  });
});
