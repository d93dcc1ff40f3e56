import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Database } from '@ordering/platform';
import { ConnectionFaults, tokenFor } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { orderIdFor } from './placing-order/order-id.js';
import { alice, orderApiForTests } from './order-api.test-support.js';

describe('the order API’s commands under lost connections (real PostgreSQL)', () => {
  const api = orderApiForTests('order_faults');
  const { request, place } = api;

  describe('a connection lost at any statement of a command', () => {
    let faults: ConnectionFaults;
    beforeAll(async () => {
      faults = await new ConnectionFaults(api.app.get(Database)).start();
    });
    afterAll(() => faults.stop());

    /** How many rows of each kind the order has: its whole unit of work, or none of it. */
    async function written(orderId: string, customerId: string, key: string) {
      const [row] = await api.app.get(DataSource).query(
        `SELECT
           (SELECT count(*)::int FROM event_streams WHERE stream_id = 'order-' || $1) AS streams,
           (SELECT coalesce(max(version), 0) FROM event_streams WHERE stream_id = 'order-' || $1)
             AS version,
           (SELECT count(*)::int FROM events WHERE stream_id = 'order-' || $1) AS events,
           (SELECT count(*)::int FROM order_summaries WHERE order_id = $1::uuid) AS summaries,
           (SELECT count(*)::int FROM outbox WHERE aggregate_id = $1) AS outbox,
           (SELECT count(*)::int FROM reservation_deadlines WHERE order_id = $1::uuid) AS deadlines,
           (SELECT count(*)::int FROM idempotency_keys WHERE caller_id = $2 AND key = $3) AS keys`,
        [orderId, customerId, key],
      );
      return row;
    }

    it('places an order all or nothing, and a retry with its key places it once', async () => {
      const items = [{ sku: 'COFFEE', quantity: 1 }];
      const label = /^append to order-/;
      const statements = await faults.statementsOf({ label }, () =>
        place(items, alice, { 'idempotency-key': randomUUID() }),
      );
      expect(statements.at(-1)).toBe('COMMIT');
      for (const [index, text] of statements.entries()) {
        const customerId = `customer-${randomUUID()}`;
        const key = randomUUID();
        const orderId = orderIdFor(customerId, key);
        const broken = faults.breakBefore({ label, index });
        const failed = await place(items, tokenFor(customerId), { 'idempotency-key': key });
        expect(await broken).toBe(text);
        expect(failed.status).toBe(503);
        expect(failed.headers.get('retry-after')).toBe('1');
        expect(await written(orderId, customerId, key)).toEqual({
          streams: 0,
          version: 0,
          events: 0,
          summaries: 0,
          outbox: 0,
          deadlines: 0,
          keys: 0,
        });

        const retried = await place(items, tokenFor(customerId), { 'idempotency-key': key });
        expect(retried.status).toBe(202);
        expect(retried.body).toEqual({ orderId, status: 'PENDING' });
        const replayed = await place(items, tokenFor(customerId), { 'idempotency-key': key });
        expect(replayed.headers.get('idempotent-replayed')).toBe('true');
        expect(replayed.body).toEqual(retried.body);
        expect(await written(orderId, customerId, key)).toEqual({
          streams: 1,
          version: 1,
          events: 1,
          summaries: 1,
          outbox: 1,
          deadlines: 1,
          keys: 1,
        });
      }
    });

    it('cancels an order all or nothing, and a retry with its key cancels it once', async () => {
      // The cancellation's own transaction (the order is placed beforehand).
      const { body: sample } = await place([{ sku: 'MUG', quantity: 1 }], alice);
      const cancellation = await faults.statementsOf(
        { label: `append to order-${sample.orderId}` },
        () =>
          request('POST', `/orders/${sample.orderId}/cancel`, {
            token: alice,
            body: {},
            headers: { 'idempotency-key': randomUUID() },
          }),
      );
      for (const [index, text] of cancellation.entries()) {
        const customerId = `customer-${randomUUID()}`;
        const token = tokenFor(customerId);
        const { body: placed } = await place([{ sku: 'MUG', quantity: 1 }], token);
        const key = randomUUID();
        const cancel = () =>
          request('POST', `/orders/${placed.orderId}/cancel`, {
            token,
            body: { reason: 'changed my mind' },
            headers: { 'idempotency-key': key },
          });
        const broken = faults.breakBefore({ label: `append to order-${placed.orderId}`, index });
        const failed = await cancel();
        expect(await broken).toBe(text);
        expect(failed.status).toBe(503);
        expect(await written(placed.orderId, customerId, key)).toMatchObject({
          version: 1,
          events: 1,
          outbox: 1,
          deadlines: 1,
          keys: 0,
        });
        expect((await request('GET', `/orders/${placed.orderId}`, { token })).body.status).toBe(
          'PENDING',
        );

        const retried = await cancel();
        expect(retried.status).toBe(202);
        expect(retried.body).toEqual({ orderId: placed.orderId, status: 'CANCELLED', version: 2 });
        // Answered as it was, not with 409 "already cancelled".
        const again = await cancel();
        expect(again.status).toBe(202);
        expect(again.body).toEqual(retried.body);
        expect(await written(placed.orderId, customerId, key)).toMatchObject({
          version: 2,
          events: 2,
          summaries: 1,
          outbox: 2,
          deadlines: 0,
          keys: 1,
        });
      }
    });
  });
});
