import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { orderCancelledV1, orderPlacedV1, Queues, type CloudEvent } from '@ordering/contracts';
import { connectConsumer } from '@ordering/messaging';
import { Database } from '@ordering/platform';
import {
  ConnectionFaults,
  eventually,
  startInProcess,
  testEvent,
  testPublisher,
  type InProcessService,
} from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ProductCatalogue } from '../products/product-catalogue.js';

const SKU = 'FAULT-MUG';
const STOCK = 1000;

const placed = (orderId: string, quantity: number, skus: string[] = [SKU]) =>
  testEvent(orderPlacedV1, {
    orderId,
    customerId: 'customer-1',
    lines: skus.map((sku) => ({ sku, quantity, unitPrice: 900 })),
    total: 900 * quantity * skus.length,
    currency: 'EUR',
    placedAt: new Date().toISOString(),
    version: 1,
  });

const cancelled = (orderId: string) =>
  testEvent(orderCancelledV1, {
    orderId,
    status: 'CANCELLED',
    version: 2,
    occurredAt: new Date().toISOString(),
    reason: 'changed my mind',
  });

describe('reserving and releasing stock under lost connections (real PostgreSQL and RabbitMQ)', () => {
  let inventory: InProcessService;
  let publisher: Awaited<ReturnType<typeof testPublisher>>;
  let faults: ConnectionFaults;
  const sql = <T>(text: string, values: unknown[] = []) =>
    inventory.app.get(DataSource).query(text, values) as Promise<T[]>;

  /** Everything a message about the order changes: its effect, outgoing event and inbox row. */
  async function written(orderId: string, messageId: string) {
    const [row] = await sql<Record<string, unknown>>(
      `SELECT
         (SELECT available FROM products WHERE sku = $3) AS available,
         (SELECT reserved FROM products WHERE sku = $3) AS reserved,
         (SELECT status FROM reservations WHERE order_id = $1::uuid) AS reservation,
         (SELECT array_agg(routing_key ORDER BY id) FROM outbox WHERE aggregate_id = $1::text) AS published,
         (SELECT count(*)::int FROM inbox WHERE message_id = $2::uuid) AS inbox`,
      [orderId, messageId, SKU],
    );
    return row;
  }

  beforeAll(async () => {
    inventory = await startInProcess({
      name: 'inventory',
      // Lingers so that messages published together are one batch.
      env: { INVENTORY_DEMO_CATALOGUE: 'false', CONSUMER_LINGER_MS: '100' },
      load: async () => ({
        service: (await import('../inventory-service.definition.js')).inventoryService,
        module: (await import('../inventory.module.js')).InventoryModule,
      }),
      connect: (app) => connectConsumer(app, 'inventory', Queues.inventoryOrderEvents),
    });
    // Stocked as an admin's PUT /products/:sku would.
    const catalogue = inventory.app.get(ProductCatalogue);
    for (const [sku, name, price, available] of [
      [SKU, 'Mug', 900, STOCK],
      ['PAIR-A', 'A', 100, STOCK],
      ['PAIR-B', 'B', 100, STOCK],
      ['SCARCE', 'Scarce', 100, 5],
    ] as const) {
      await catalogue.put({ sku, name, price, currency: 'EUR', available }, 'test');
    }
    publisher = await testPublisher(inventory.rabbitmqUrl);
    faults = await new ConnectionFaults(inventory.app.get(Database)).start();
  });

  afterAll(async () => {
    await faults?.stop();
    await publisher?.close();
    await inventory?.stop();
  });

  const stock = async () =>
    (
      await sql<{ available: number; reserved: number }>(
        'SELECT available, reserved FROM products WHERE sku = $1',
        [SKU],
      )
    )[0];

  type Stock = { available: number; reserved: number };

  /**
   * For each statement of the consumer's transaction for `type`: the connection breaks just
   * before it; before the retry runs, nothing of the message is there; after it, all of it, once.
   */
  async function atEveryStatement(
    type: string,
    run: () => Promise<{ orderId: string; message: CloudEvent; stock: Stock }>,
    before: (stock: Stock) => Record<string, unknown>,
    after: (stock: Stock) => Record<string, unknown>,
  ) {
    const label = `consume ${type}`;
    const statements = await faults.statementsOf({ label }, async () => {
      const { orderId, message } = await run();
      await eventually(async () =>
        expect(await written(orderId, message.id)).toMatchObject({ inbox: 1 }),
      );
    });
    expect(statements.at(-1)).toBe('COMMIT');
    for (const [index, text] of statements.entries()) {
      const broken = faults.breakBefore({ label, index });
      const { orderId, message, stock: was } = await run();
      expect(await broken).toBe(text);
      const retry = faults.holdNext({ label });
      await retry.reached;
      expect(await written(orderId, message.id)).toEqual(before(was));
      retry.release();
      await eventually(async () => expect(await written(orderId, message.id)).toEqual(after(was)));
    }
  }

  it('reserves an order’s stock once, whatever statement loses the connection', async () => {
    await atEveryStatement(
      'order.placed',
      async () => {
        const orderId = randomUUID();
        const message = placed(orderId, 2);
        const was = await stock();
        await publisher.publish(message);
        return { orderId, message, stock: was };
      },
      (was) => ({ ...was, reservation: null, published: null, inbox: 0 }),
      (was) => ({
        available: was.available - 2,
        reserved: was.reserved + 2,
        reservation: 'RESERVED',
        published: ['inventory.reserved'],
        inbox: 1,
      }),
    );
  });

  it('releases a cancelled order’s stock once, whatever statement loses the connection', async () => {
    await atEveryStatement(
      'order.cancelled',
      async () => {
        const orderId = randomUUID();
        const reservation = placed(orderId, 3);
        await publisher.publish(reservation);
        await eventually(async () =>
          expect(await written(orderId, reservation.id)).toMatchObject({ inbox: 1 }),
        );
        const message = cancelled(orderId);
        const was = await stock();
        await publisher.publish(message);
        return { orderId, message, stock: was };
      },
      (was) => ({
        ...was,
        reservation: 'RESERVED',
        published: ['inventory.reserved'],
        inbox: 0,
      }),
      (was) => ({
        available: was.available + 3,
        reserved: was.reserved - 3,
        reservation: 'RELEASED',
        published: ['inventory.reserved', 'inventory.released'],
        inbox: 1,
      }),
    );
    // Conserved through it all.
    const { available, reserved } = await stock();
    expect(available + reserved).toBe(STOCK);
  });

  it('never deadlocks releases against reservations of the same products', async () => {
    const deadlocks = async () =>
      (
        await sql<{ deadlocks: string }>(
          'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
        )
      )[0].deadlocks;
    // Orders listing the two products in one order; reservations take them in the other.
    const first = Array.from({ length: 30 }, () => {
      const orderId = randomUUID();
      return { orderId, message: placed(orderId, 1, ['PAIR-B', 'PAIR-A']) };
    });
    for (const { message } of first) await publisher.publish(message);
    await eventually(async () => {
      for (const { orderId, message } of first) {
        expect(await written(orderId, message.id)).toMatchObject({ reservation: 'RESERVED' });
      }
    });
    const before = await deadlocks();
    // Releases of those and new reservations, all at once.
    const second = Array.from({ length: 30 }, () => {
      const orderId = randomUUID();
      return { orderId, message: placed(orderId, 1, ['PAIR-A', 'PAIR-B']) };
    });
    await Promise.all([
      ...first.map(({ orderId }) => publisher.publish(cancelled(orderId))),
      ...second.map(({ message }) => publisher.publish(message)),
    ]);
    await eventually(async () => {
      for (const { orderId } of first) {
        expect(await sql('SELECT status FROM reservations WHERE order_id = $1', [orderId])).toEqual(
          [{ status: 'RELEASED' }],
        );
      }
      for (const { orderId, message } of second) {
        expect(await written(orderId, message.id)).toMatchObject({ reservation: 'RESERVED' });
      }
    });
    // Backends report their statistics a second or so late: wait for them before comparing.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await deadlocks()).toBe(before);
  });

  it('reserves a batch of orders for a scarce product in delivery order, keeping a running balance', async () => {
    const orders = Array.from({ length: 8 }, () => {
      const orderId = randomUUID();
      return { orderId, message: placed(orderId, 1, ['SCARCE']) };
    });
    await Promise.all(orders.map(({ message }) => publisher.publish(message)));
    const statuses = async () => {
      const rows = await sql<{ order_id: string; status: string }>(
        'SELECT order_id, status FROM reservations WHERE order_id = ANY($1::uuid[])',
        [orders.map(({ orderId }) => orderId)],
      );
      const byOrder = new Map(rows.map((row) => [row.order_id, row.status]));
      return orders.map(({ orderId }) => byOrder.get(orderId));
    };
    await eventually(async () => expect(await statuses()).not.toContain(undefined));
    expect(await statuses()).toEqual([...Array(5).fill('RESERVED'), ...Array(3).fill('REFUSED')]);
    expect(
      await sql('SELECT available, reserved FROM products WHERE sku = $1', ['SCARCE']),
    ).toEqual([{ available: 0, reserved: 5 }]);
  });

  it('settles an order placed and cancelled in one batch, and voids one cancelled before it was placed', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const was = await stock();
    await Promise.all(
      [placed(a, 4), cancelled(a), cancelled(b), placed(b, 4)].map((m) => publisher.publish(m)),
    );
    await eventually(async () => {
      const rows = await sql<{ order_id: string; status: string }>(
        'SELECT order_id, status FROM reservations WHERE order_id = ANY($1::uuid[]) ORDER BY status',
        [[a, b]],
      );
      expect(rows).toEqual([
        { order_id: a, status: 'RELEASED' },
        { order_id: b, status: 'VOIDED' },
      ]);
    });
    expect(await stock()).toEqual(was);
    expect(
      await sql('SELECT routing_key FROM outbox WHERE aggregate_id = ANY($1::text[]) ORDER BY id', [
        [a, b],
      ]),
    ).toEqual([{ routing_key: 'inventory.reserved' }, { routing_key: 'inventory.released' }]);
  });
});
