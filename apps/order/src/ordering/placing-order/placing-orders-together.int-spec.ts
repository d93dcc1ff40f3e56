import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Database } from '@ordering/platform';
import {
  ConnectionFaults,
  httpClient,
  startInProcess,
  tokenFor,
  type InProcessService,
} from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { orderIdFor } from './order-id.js';
import { replicateProducts } from '../../catalogue/replicate-products.test-support.js';

describe('placing orders together: group commit (order service, real PostgreSQL)', () => {
  let order: InProcessService;
  let request: ReturnType<typeof httpClient>;
  let faults: ConnectionFaults;
  const sql = <T>(text: string, values: unknown[] = []) =>
    order.app.get(DataSource).query(text, values) as Promise<T[]>;

  /** Placements sent at once, each by its own customer with its own Idempotency-Key. */
  const placeAtOnce = (skus: string[]) =>
    Promise.all(
      skus.map(async (sku) => {
        const customerId = `customer-${randomUUID()}`;
        const key = randomUUID();
        const answer = await request('POST', '/orders', {
          token: tokenFor(customerId),
          body: { items: [{ sku, quantity: 1 }] },
          headers: { 'idempotency-key': key },
        });
        return { answer, orderId: orderIdFor(customerId, key), customerId, key };
      }),
    );

  /** What each order left, and how many transactions wrote them. */
  async function written(orderIds: string[]) {
    const [row] = await sql<Record<string, number>>(
      `SELECT
         (SELECT count(DISTINCT transaction_id)::int FROM events
          WHERE stream_id = ANY(SELECT 'order-' || unnest($1::text[]))) AS transactions,
         (SELECT count(*)::int FROM events
          WHERE stream_id = ANY(SELECT 'order-' || unnest($1::text[]))) AS events,
         (SELECT count(*)::int FROM order_summaries WHERE order_id = ANY($1::uuid[])) AS summaries,
         (SELECT count(*)::int FROM outbox WHERE aggregate_id = ANY($1::text[])) AS outbox,
         (SELECT count(*)::int FROM reservation_deadlines WHERE order_id = ANY($1::uuid[]))
           AS deadlines,
         (SELECT count(*)::int FROM idempotency_keys
          WHERE response_body ->> 'orderId' = ANY($1::text[])) AS keys`,
      [orderIds],
    );
    return row;
  }

  beforeAll(async () => {
    order = await startInProcess({
      name: 'order',
      load: async () => ({
        service: (await import('../../order-service.definition.js')).orderService,
        module: (await import('../../order.module.js')).OrderModule,
      }),
    });
    request = httpClient(order.url);
    await replicateProducts(order.app, [
      { sku: 'MUG', name: 'Mug', price: 900, currency: 'EUR', available: 20 },
    ]);
    faults = await new ConnectionFaults(order.app.get(Database)).start();
  });

  afterAll(async () => {
    await faults?.stop();
    await order?.stop();
  });

  it('places orders sent at once in fewer transactions than orders, each answered 202', async () => {
    const placed = await placeAtOnce(Array(20).fill('MUG'));
    expect(placed.map(({ answer }) => answer.status)).toEqual(Array(20).fill(202));
    const orderIds = placed.map(({ orderId }) => orderId);
    expect(placed.map(({ answer }) => answer.body.orderId)).toEqual(orderIds);
    const counts = await written(orderIds);
    expect(counts).toMatchObject({
      events: 20,
      summaries: 20,
      outbox: 20,
      deadlines: 20,
      keys: 20,
    });
    expect(counts.transactions).toBeLessThan(20);
  });

  it('answers a refused placement alone, and places the others of its group', async () => {
    const placed = await placeAtOnce([
      ...Array(6).fill('MUG'),
      'NO-SUCH-SKU',
      ...Array(6).fill('MUG'),
    ]);
    const refused = placed[6];
    expect(refused.answer.status).toBe(422);
    expect(refused.answer.body).toMatchObject({ rule: 'UNKNOWN_SKUS' });
    const others = placed.filter((p) => p !== refused);
    expect(others.map(({ answer }) => answer.status)).toEqual(Array(12).fill(202));
    const counts = await written(others.map(({ orderId }) => orderId));
    expect(counts).toMatchObject({ events: 12, keys: 12 });
    expect(counts.transactions).toBeLessThan(12);
    expect(await written([refused.orderId])).toMatchObject({ events: 0, keys: 0 });
  });

  it('places each order of a failed group alone, once, whatever statement lost the connection', async () => {
    const label = 'place orders';
    const statements = await faults.statementsOf({ label }, () =>
      placeAtOnce(Array(8).fill('MUG')),
    );
    expect(statements.at(-1)).toBe('COMMIT');
    for (const [index, text] of statements.entries()) {
      const broken = faults.breakBefore({ label, index });
      const placed = await placeAtOnce(Array(8).fill('MUG'));
      expect(await broken).toBe(text);
      expect(placed.map(({ answer }) => answer.status)).toEqual(Array(8).fill(202));
      expect(await written(placed.map(({ orderId }) => orderId))).toMatchObject({
        events: 8,
        summaries: 8,
        outbox: 8,
        deadlines: 8,
        keys: 8,
      });
    }
  });
});
