import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { inventoryReservationFailedV1, inventoryReservedV1, Queues } from '@ordering/contracts';
import { connectConsumer } from '@ordering/messaging';
import { Database } from '@ordering/platform';
import {
  ConnectionFaults,
  eventually,
  httpClient,
  startInProcess,
  testEvent,
  testPublisher,
  tokenFor,
  type InProcessService,
} from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DeadlineWatcher } from './deadline-watcher.js';
import { FulfilmentPolicy } from './fulfilment-policy.js';
import { OrderStreamLocks } from './order-stream-locks.js';
import { replicateProducts } from '../catalogue/replicate-products.test-support.js';

const reserved = (orderId: string) =>
  testEvent(inventoryReservedV1, {
    orderId,
    lines: [{ sku: 'MUG', quantity: 1 }],
    reservedAt: new Date().toISOString(),
  });

const failed = (orderId: string) =>
  testEvent(inventoryReservationFailedV1, {
    orderId,
    shortLines: [{ sku: 'MUG', requested: 1, available: 0 }],
    failedAt: new Date().toISOString(),
  });

describe('the fulfilment saga under lost connections (real PostgreSQL and RabbitMQ)', () => {
  let order: InProcessService;
  let publisher: Awaited<ReturnType<typeof testPublisher>>;
  let faults: ConnectionFaults;
  const sql = <T>(text: string, values: unknown[] = []) =>
    order.app.get(DataSource).query(text, values) as Promise<T[]>;

  async function place(): Promise<string> {
    const placed = await httpClient(order.url)('POST', '/orders', {
      token: tokenFor('customer-saga'),
      body: { items: [{ sku: 'MUG', quantity: 1 }] },
    });
    expect(placed.status).toBe(202);
    return placed.body.orderId;
  }

  /** The order's whole state across its tables. */
  async function written(orderId: string, messageId: string = randomUUID()) {
    const [row] = await sql<Record<string, unknown>>(
      `SELECT
         (SELECT status FROM order_summaries WHERE order_id = $1::uuid) AS status,
         (SELECT version FROM event_streams WHERE stream_id = 'order-' || $1::text) AS version,
         (SELECT count(*)::int FROM events WHERE stream_id = 'order-' || $1::text) AS events,
         (SELECT array_agg(routing_key ORDER BY id) FROM outbox WHERE aggregate_id = $1::text) AS published,
         (SELECT count(*)::int FROM reservation_deadlines WHERE order_id = $1::uuid) AS deadlines,
         (SELECT count(*)::int FROM inbox WHERE message_id = $2::uuid) AS inbox`,
      [orderId, messageId],
    );
    return row;
  }

  beforeAll(async () => {
    order = await startInProcess({
      name: 'order',
      // Lingers so that answers published together are one batch.
      env: { CONSUMER_LINGER_MS: '100' },
      load: async () => ({
        service: (await import('../order-service.definition.js')).orderService,
        module: (await import('../order.module.js')).OrderModule,
      }),
      connect: (app) =>
        connectConsumer(app, 'order', Queues.orderInventoryEvents, OrderStreamLocks),
    });
    await replicateProducts(order.app, [
      { sku: 'MUG', name: 'Mug', price: 900, currency: 'EUR', available: 100 },
    ]);
    publisher = await testPublisher(order.rabbitmqUrl);
    faults = await new ConnectionFaults(order.app.get(Database)).start();
  });

  afterAll(async () => {
    await faults?.stop();
    await publisher?.close();
    await order?.stop();
  });

  const pending = { status: 'PENDING', version: 1, events: 1, published: ['order.placed'] };

  it('confirms an order once, whatever statement of the saga step loses the connection', async () => {
    const label = 'consume inventory.reserved';
    const statements = await faults.statementsOf({ label }, async () => {
      const orderId = await place();
      await publisher.publish(reserved(orderId));
      await eventually(async () => expect(await written(orderId)).toMatchObject({ version: 2 }));
    });
    expect(statements.at(-1)).toBe('COMMIT');
    for (const [index, text] of statements.entries()) {
      const orderId = await place();
      const answer = reserved(orderId);
      const broken = faults.breakBefore({ label, index });
      await publisher.publish(answer);
      expect(await broken).toBe(text);
      const retry = faults.holdNext({ label });
      await retry.reached;
      expect(await written(orderId, answer.id)).toEqual({ ...pending, deadlines: 1, inbox: 0 });
      retry.release();
      await eventually(async () =>
        expect(await written(orderId, answer.id)).toEqual({
          status: 'CONFIRMED',
          version: 2,
          events: 2,
          published: ['order.placed', 'order.confirmed'],
          deadlines: 0,
          inbox: 1,
        }),
      );
    }
  });

  it('decides a batch of answers together, each order’s in the order they came', async () => {
    const [first, second] = [await place(), await place()];
    await Promise.all(
      [failed(first), reserved(first), reserved(second), failed(second)].map((answer) =>
        publisher.publish(answer),
      ),
    );
    await eventually(async () => {
      expect(await written(first)).toMatchObject({ status: 'REJECTED', version: 2, events: 2 });
      expect(await written(second)).toMatchObject({ status: 'CONFIRMED', version: 2, events: 2 });
    });
    // One transaction appended both.
    const transactions = await sql(
      `SELECT DISTINCT transaction_id FROM events
       WHERE stream_id = ANY($1::text[]) AND stream_position = 2`,
      [[`order-${first}`, `order-${second}`]],
    );
    expect(transactions).toHaveLength(1);
  });

  it('rejects an order past its deadline once, whatever statement loses the connection', async () => {
    const label = 'reservation deadline';
    const due = (orderId: string) =>
      sql('UPDATE reservation_deadlines SET due_at = now() WHERE order_id = $1', [orderId]);
    const statements = await faults.statementsOf({ label }, async () => {
      const orderId = await place();
      await due(orderId);
      await eventually(async () => expect(await written(orderId)).toMatchObject({ version: 2 }));
    });
    expect(statements.at(-1)).toBe('COMMIT');
    for (const [index, text] of statements.entries()) {
      const orderId = await place();
      const broken = faults.breakBefore({ label, index });
      await due(orderId);
      expect(await broken).toBe(text);
      const retry = faults.holdNext({ label });
      await retry.reached;
      expect(await written(orderId)).toEqual({ ...pending, deadlines: 1, inbox: 0 });
      retry.release();
      await eventually(async () =>
        expect(await written(orderId)).toEqual({
          status: 'REJECTED',
          version: 2,
          events: 2,
          published: ['order.placed', 'order.rejected'],
          deadlines: 0,
          inbox: 0,
        }),
      );
      // A connection lost is not the deadline's fault: it was not postponed or counted.
      expect(
        await sql('SELECT attempts FROM reservation_deadlines WHERE order_id = $1', [orderId]),
      ).toEqual([]);
    }
  });

  it('fires each deadline once when several instances watch the same deadlines', async () => {
    const own = order.app.get(DeadlineWatcher);
    await own.onApplicationShutdown();
    try {
      const orderIds = await Promise.all(Array.from({ length: 12 }, () => place()));
      await sql('UPDATE reservation_deadlines SET due_at = now() WHERE order_id = ANY($1)', [
        orderIds,
      ]);
      const instances = Array.from(
        { length: 3 },
        () => new DeadlineWatcher(order.app.get(Database), order.app.get(FulfilmentPolicy)),
      );
      const fired = await Promise.all(instances.map((watcher) => watcher.fireDue()));

      expect(fired.reduce((sum, count) => sum + count, 0)).toBe(orderIds.length);
      for (const orderId of orderIds) {
        expect(await written(orderId)).toMatchObject({
          status: 'REJECTED',
          events: 2,
          published: ['order.placed', 'order.rejected'],
          deadlines: 0,
        });
      }
    } finally {
      own.onApplicationBootstrap();
    }
  });

  it('postpones a deadline that keeps failing, and fires the others meanwhile', async () => {
    // An order whose stream holds an event no code knows: its deadline cannot be decided.
    const broken = randomUUID();
    await sql(`INSERT INTO event_streams (stream_id, version) VALUES ('order-' || $1, 1)`, [
      broken,
    ]);
    await sql(
      `INSERT INTO events (stream_id, stream_position, type, schema_version, data)
       VALUES ('order-' || $1, 1, 'OrderTeleported', 1, '{}')`,
      [broken],
    );
    await sql(
      `INSERT INTO reservation_deadlines (order_id, due_at) VALUES ($1, now() - interval '1 minute')`,
      [broken],
    );
    const orderId = await place();
    await sql('UPDATE reservation_deadlines SET due_at = now() WHERE order_id = $1', [orderId]);

    await eventually(async () =>
      expect(await written(orderId)).toMatchObject({ status: 'REJECTED' }),
    );
    const [postponed] = await sql<{ attempts: number; last_error: string; later: boolean }>(
      `SELECT attempts, last_error, due_at > now() AS later FROM reservation_deadlines
       WHERE order_id = $1`,
      [broken],
    );
    expect(postponed.attempts).toBeGreaterThanOrEqual(1);
    expect(postponed.last_error).toContain('OrderTeleported');
    expect(postponed.later).toBe(true);
  });
});
