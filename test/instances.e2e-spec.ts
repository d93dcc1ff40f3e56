import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  eventually,
  httpClient,
  metricValue,
  OrderingSystem,
  tokenFor,
  type ServiceName,
  type ServiceProcess,
} from '@ordering/testing';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';

const ORDERS = 40;

/** Whether this instance leads its service's outbox relay, from its own /metrics. */
async function leads(instance: ServiceProcess): Promise<boolean> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return metricValue(text, 'outbox_relay_leader') === 1;
}

describe('two instances of every service, one of each killed midway', () => {
  const system = new OrderingSystem({ OUTBOX_POLL_INTERVAL_MS: '200' }, { instances: 2 });
  beforeAll(() => system.start(), 120_000);
  afterAll(() => system.stop());

  const instancesOf = (name: ServiceName) => system.instances.get(name)!;

  /** Places an order on the given instance; on a connection lost, again on any live one. */
  async function place(first: ServiceProcess, sku: string, customer: string): Promise<string> {
    const key = randomUUID();
    for (let attempt = 0; ; attempt++) {
      const instance = attempt === 0 ? first : system.service('order');
      try {
        const placed = await httpClient(instance.url)('POST', '/orders', {
          token: tokenFor(customer),
          headers: { 'idempotency-key': key },
          body: { items: [{ sku, quantity: 1 }] },
        });
        if (placed.status === 202 || placed.status === 200) return placed.body.orderId;
        throw new Error(`POST /orders: ${placed.status} ${JSON.stringify(placed.body)}`);
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  it('confirms every order once, in order, while the relay leader and others are killed', async () => {
    // What other teams would see on order.events: the order of publication per order.
    const connection = await amqplib.connect(system.rabbitmqUrl);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'order.events', '#');
    const published = new Map<string, string[]>();
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        const orderId = JSON.parse(message.content.toString()).data.orderId as string;
        published.set(orderId, [...(published.get(orderId) ?? []), message.fields.routingKey]);
      },
      { noAck: true },
    );

    try {
      const sku = `MUG-${randomUUID().slice(0, 6)}`.toUpperCase();
      await system.stock(sku, 1000);
      const orders = instancesOf('order');
      // Exactly one of them leads once both are up; the one killed below is that one.
      const leading = await eventually(async () => {
        const found = [await leads(orders[0]), await leads(orders[1])];
        expect(found.filter(Boolean)).toHaveLength(1);
        return found;
      });
      const leaderIndex = leading[0] ? 0 : 1;
      const [leader, standby] = [orders[leaderIndex], orders[1 - leaderIndex]];
      expect(await leads(standby)).toBe(false);

      const orderIds: string[] = [];
      const placing = (from: number, to: number) =>
        Promise.all(
          Array.from({ length: to - from }, (_, i) =>
            place(orders[(from + i) % 2], sku, `customer-${from + i}`),
          ),
        );
      orderIds.push(...(await placing(0, ORDERS / 2)));
      // Mid-flight: the relay's leader and an instance of each consumer die without a word.
      await Promise.all([
        leader.stop('SIGKILL'),
        instancesOf('inventory')[0].stop('SIGKILL'),
        // The one that asks the killed order instance for orders (ORDER_API_URL): the one left
        // asks the standby, as it would a load balancer in front of the order API.
        instancesOf('notification')[leaderIndex].stop('SIGKILL'),
      ]);
      orderIds.push(...(await placing(ORDERS / 2, ORDERS)));

      for (const orderId of orderIds) {
        await system.orderReaches(orderId, ['CONFIRMED'], 60_000);
      }
      // The instance left took the relay over.
      await eventually(async () => expect(await leads(standby)).toBe(true));

      for (const orderId of orderIds) {
        expect(await system.orderEvents(orderId)).toEqual([
          expect.objectContaining({ type: 'OrderPlaced', version: 1 }),
          expect.objectContaining({ type: 'OrderConfirmed', version: 2 }),
        ]);
      }
      // Reserved once each: nothing lost, nothing applied twice.
      expect(await system.product(sku)).toMatchObject({
        available: 1000 - ORDERS,
        reserved: ORDERS,
      });
      // Up to the delivery lease (60 s) later: what the killed worker had claimed waits for it.
      await eventually(
        async () => {
          for (const orderId of orderIds) {
            expect(await system.notifications(orderId)).toEqual([
              expect.objectContaining({ kind: 'ORDER_CONFIRMED', status: 'SENT' }),
            ]);
          }
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      // Published at least once each (a leader killed between publish and mark sends again),
      // and never a confirmation before its placement.
      for (const orderId of orderIds) {
        const keys = published.get(orderId) ?? [];
        expect(new Set(keys)).toEqual(new Set(['order.placed', 'order.confirmed']));
        expect(keys.lastIndexOf('order.placed')).toBeLessThan(keys.indexOf('order.confirmed'));
      }
    } finally {
      await connection.close();
    }
  }, 180_000);
});
