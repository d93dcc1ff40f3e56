import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, OrderingSystem, tokenFor } from '@ordering/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sku = (name: string) => `${name}-${randomUUID().slice(0, 6)}`.toUpperCase();
const terminal = ['CONFIRMED', 'REJECTED', 'CANCELLED'];

describe('the order-fulfilment saga across the three services', () => {
  const system = new OrderingSystem();

  beforeAll(() => system.start(), 90_000);
  afterAll(() => system.stop());

  it('happy path: a placed order is confirmed, its stock reserved, its customer told once', async () => {
    const mug = sku('mug');
    await system.stock(mug, 5);

    const orderId = await system.placeOrder('alice', [{ sku: mug, quantity: 2 }]);

    const order = await system.orderReaches(orderId, ['CONFIRMED']);
    expect(order).toMatchObject({ status: 'CONFIRMED', version: 2 });
    expect(await system.product(mug)).toMatchObject({ available: 3, reserved: 2 });
    const sent = await eventually(async () => {
      const notifications = await system.notifications(orderId);
      expect(notifications).toEqual([
        expect.objectContaining({ kind: 'ORDER_CONFIRMED', status: 'SENT' }),
      ]);
      return notifications;
    });
    expect(sent).toHaveLength(1);
  });

  it('out of stock: the order is rejected with the short lines, and no stock is held', async () => {
    const kettle = sku('kettle');
    await system.stock(kettle, 1);

    const orderId = await system.placeOrder('bob', [{ sku: kettle, quantity: 3 }]);

    const order = await system.orderReaches(orderId, ['REJECTED']);
    expect(order).toMatchObject({
      reason: 'OUT_OF_STOCK',
      shortLines: [{ sku: kettle, requested: 3, available: 1 }],
    });
    expect(await system.product(kettle)).toMatchObject({ available: 1, reserved: 0 });
    await eventually(async () =>
      expect(await system.notifications(orderId)).toEqual([
        expect.objectContaining({ kind: 'ORDER_REJECTED' }),
      ]),
    );
  });

  it('cancelling a confirmed order gives its stock back and tells the customer', async () => {
    const tea = sku('tea');
    await system.stock(tea, 4);
    const orderId = await system.placeOrder('carol', [{ sku: tea, quantity: 4 }]);
    await system.orderReaches(orderId, ['CONFIRMED']);
    expect(await system.product(tea)).toMatchObject({ available: 0, reserved: 4 });

    const cancelled = await system.http('order')('POST', `/orders/${orderId}/cancel`, {
      token: tokenFor('carol'),
      body: { reason: 'no longer needed' },
    });
    expect(cancelled.status).toBe(202);

    await system.orderReaches(orderId, ['CANCELLED']);
    await eventually(async () =>
      expect(await system.product(tea)).toMatchObject({ available: 4, reserved: 0 }),
    );
    await eventually(async () =>
      expect((await system.notifications(orderId)).map((n) => n.kind).sort()).toEqual([
        'ORDER_CANCELLED',
        'ORDER_CONFIRMED',
      ]),
    );
  });

  it('50 concurrent orders for 10 units: exactly 10 confirmed, 40 rejected, stock never negative', async () => {
    const last = sku('last-units');
    await system.stock(last, 10);

    const orderIds = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        system.placeOrder(`racer-${i}`, [{ sku: last, quantity: 1 }]),
      ),
    );
    const orders = await Promise.all(
      orderIds.map((id) => system.orderReaches(id, terminal, 60_000)),
    );

    const count = (status: string) => orders.filter((o) => o.status === status).length;
    expect(count('CONFIRMED')).toBe(10);
    expect(count('REJECTED')).toBe(40);
    expect(await system.product(last)).toEqual(
      expect.objectContaining({ available: 0, reserved: 10 }),
    );
  });

  it('a service killed mid-flow and RabbitMQ restarted: every order ends, nothing applied twice', async () => {
    const widget = sku('widget');
    await system.stock(widget, 1000);
    const place = (n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          system.placeOrder(`crash-${i}`, [{ sku: widget, quantity: 1 }]),
        ),
      );

    const before = await place(20);
    await system.service('inventory').stop('SIGKILL');
    const during = await place(20);
    await system.service('inventory').start();
    await restartRabbitMq();
    const after = await place(20);

    const ids = [...before, ...during, ...after];
    const orders = await Promise.all(
      ids.map((id) => system.orderReaches(id, ['CONFIRMED'], 90_000)),
    );
    expect(orders).toHaveLength(60);
    for (const id of ids) {
      // Exactly one placement and one confirmation each: redeliveries changed nothing.
      expect((await system.orderEvents(id)).map((e) => e.type)).toEqual([
        'OrderPlaced',
        'OrderConfirmed',
      ]);
    }
    expect(await system.product(widget)).toMatchObject({ available: 940, reserved: 60 });
    await eventually(
      async () => {
        for (const id of ids) expect(await system.notifications(id)).toHaveLength(1);
      },
      { timeoutMs: 30_000 },
    );
  });
});

describe('the reservation deadline', () => {
  const system = new OrderingSystem({ ORDER_RESERVATION_TIMEOUT: '2' });

  beforeAll(() => system.start(), 90_000);
  afterAll(() => system.stop());

  it('rejects an order the inventory does not answer in time, and the late reservation is released', async () => {
    const lamp = sku('lamp');
    await system.stock(lamp, 3);
    await system.service('inventory').stop();

    const orderId = await system.placeOrder('dave', [{ sku: lamp, quantity: 2 }]);
    const order = await system.orderReaches(orderId, ['REJECTED'], 20_000);
    expect(order.reason).toBe('RESERVATION_TIMEOUT');

    await system.service('inventory').start();
    // The inventory sees order.placed, then order.rejected: whatever it reserved, it gives back.
    await eventually(
      async () => expect(await system.product(lamp)).toMatchObject({ available: 3, reserved: 0 }),
      {
        timeoutMs: 30_000,
      },
    );
    expect((await system.orderEvents(orderId)).map((e) => e.type)).toEqual([
      'OrderPlaced',
      'OrderRejected',
    ]);
  });
});

/** Restarts the local broker (a real restart: connections drop, durable queues survive). */
async function restartRabbitMq(): Promise<void> {
  await run('rabbitmqctl', ['stop_app']);
  await run('rabbitmqctl', ['start_app']);
  await run('rabbitmqctl', ['await_startup']);
}
