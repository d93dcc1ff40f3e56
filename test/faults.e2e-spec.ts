// Jepsen-style: orders placed (and some cancelled) at a steady rate while PostgreSQL backends are
// terminated, RabbitMQ is stopped and started, and services are SIGKILLed and restarted. Then the
// histories are checked: every count below must be zero. `FAULT_ORDERS` and `FAULT_RATE` make
// the run longer (`npm run test:faults` with FAULT_ORDERS=3000 is the long run).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deadLetterQueueOf, Exchanges, Queues } from '@ordering/contracts';
import { deterministicUuid } from '@ordering/platform';
import {
  databaseUrl,
  eventually,
  FaultInjector,
  OrderingSystem,
  tokenFor,
  type HttpResult,
  type ServiceName,
} from '@ordering/testing';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const ORDERS = Number(process.env.FAULT_ORDERS ?? 800);
const RATE = Number(process.env.FAULT_RATE ?? 20);
const CANCEL_SHARE = 0.1;
const CUSTOMERS = 40;
const GIVE_UP_AFTER_MS = 90_000;
const run = randomUUID().slice(0, 6).toUpperCase();
// Plenty of most, little of one: some orders are rejected, their stock never held.
const CATALOGUE = [
  { sku: `FAULT-A-${run}`, stock: 100_000 },
  { sku: `FAULT-B-${run}`, stock: 100_000 },
  { sku: `FAULT-C-${run}`, stock: 100_000 },
  { sku: `FAULT-D-${run}`, stock: 100_000 },
  { sku: `FAULT-E-${run}`, stock: 60 },
];
const TERMINAL = ['CONFIRMED', 'REJECTED', 'CANCELLED'];
const TERMINAL_EVENT: Record<string, string> = {
  CONFIRMED: 'order.confirmed',
  REJECTED: 'order.rejected',
  CANCELLED: 'order.cancelled',
};
const KIND_OF_EVENT: Record<string, string> = {
  OrderConfirmed: 'ORDER_CONFIRMED',
  OrderRejected: 'ORDER_REJECTED',
  OrderCancelled: 'ORDER_CANCELLED',
};
const VALID_HISTORIES = [
  'OrderPlaced,OrderConfirmed',
  'OrderPlaced,OrderRejected',
  'OrderPlaced,OrderCancelled',
  'OrderPlaced,OrderConfirmed,OrderCancelled',
];

interface Placement {
  customer: string;
  key: string;
  orderId: string;
  lines: { sku: string; quantity: number }[];
  accepted: boolean;
  cancel?: { key: string; answer?: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A team downstream: a durable queue of its own on order.events, consumed through restarts. */
class DownstreamTeam {
  readonly received = new Map<string, Set<string>>();
  private running = true;
  private connection?: amqplib.ChannelModel;
  private loop?: Promise<void>;
  readonly queue = `downstream-${run}.order.events`;

  constructor(private readonly url: string) {}

  start(): void {
    this.loop = this.consume();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.connection?.close().catch(() => undefined);
    await this.loop;
  }

  private async consume(): Promise<void> {
    while (this.running) {
      try {
        const connection = await amqplib.connect(this.url);
        this.connection = connection;
        const closed = new Promise((resolve) => {
          connection.on('error', () => undefined);
          connection.on('close', resolve);
        });
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await channel.assertExchange(Exchanges.order, 'topic', { durable: true });
        await channel.assertQueue(this.queue, {
          durable: true,
          arguments: { 'x-queue-type': 'quorum' },
        });
        await channel.bindQueue(this.queue, Exchanges.order, '#');
        await channel.consume(this.queue, (message) => {
          if (!message) return;
          const event = JSON.parse(message.content.toString()) as { type: string; subject: string };
          const types = this.received.get(event.subject) ?? new Set<string>();
          types.add(event.type);
          this.received.set(event.subject, types);
          channel.ack(message);
        });
        await closed;
      } catch {
        // The broker is down: try again shortly.
      }
      if (this.running) await sleep(500);
    }
  }
}

describe('integrity under faults: database connections dropped, broker restarted, services killed', () => {
  const system = new OrderingSystem({ LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'error' });
  let downstream: DownstreamTeam;
  const placements: Placement[] = [];

  beforeAll(async () => {
    await system.start();
    for (const { sku, stock } of CATALOGUE) await system.stock(sku, stock);
    downstream = new DownstreamTeam(system.rabbitmqUrl);
    downstream.start();
    await eventually(async () => {
      const connection = await amqplib.connect(system.rabbitmqUrl);
      try {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await channel.checkQueue(downstream.queue);
      } finally {
        await connection.close();
      }
    });
  }, 120_000);

  afterAll(async () => {
    await downstream?.stop();
    await system.stop();
  });

  /** Sends until it gets an answer that is not "try again", or gives up. */
  async function untilAnswered(send: () => Promise<HttpResult>): Promise<HttpResult | undefined> {
    const until = Date.now() + GIVE_UP_AFTER_MS;
    while (Date.now() < until) {
      try {
        const response = await send();
        if (response.status < 500 && response.status !== 429) return response;
      } catch {
        // Connection refused or reset: the service is restarting.
      }
      await sleep(200 + Math.random() * 300);
    }
    return undefined;
  }

  async function placeAndMaybeCancel(index: number): Promise<void> {
    const customer = `fault-customer-${index % CUSTOMERS}`;
    const key = randomUUID();
    const lines = CATALOGUE.filter(() => Math.random() < 0.4)
      .slice(0, 3)
      .map(({ sku }) => ({ sku, quantity: 1 + Math.floor(Math.random() * 3) }));
    if (lines.length === 0) lines.push({ sku: CATALOGUE[index % 5].sku, quantity: 1 });
    const placement: Placement = { customer, key, orderId: '', lines, accepted: false };
    placements.push(placement);
    const token = tokenFor(customer);
    const placed = await untilAnswered(() =>
      system.http('order')('POST', '/orders', {
        token,
        body: { items: lines },
        headers: { 'idempotency-key': key },
      }),
    );
    if (placed?.status !== 202) return;
    placement.accepted = true;
    placement.orderId = placed.body.orderId;
    if (Math.random() >= CANCEL_SHARE) return;
    await sleep(Math.random() * 2000);
    placement.cancel = { key: randomUUID() };
    const cancelled = await untilAnswered(() =>
      system.http('order')('POST', `/orders/${placement.orderId}/cancel`, {
        token,
        body: { reason: 'changed my mind' },
        headers: { 'idempotency-key': placement.cancel!.key },
      }),
    );
    placement.cancel.answer = cancelled?.status;
  }

  async function query<T>(service: ServiceName, text: string, values: unknown[] = []) {
    const client = new pg.Client({ connectionString: databaseUrl(system.databases.get(service)!) });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('loses nothing, applies nothing twice, leaves nothing half-done', async () => {
    const every = (variable: string, ms: number) => Number(process.env[variable] ?? ms);
    const faults = new FaultInjector(system, {
      terminateBackendsEveryMs: every('FAULT_TERMINATE_EVERY_MS', 7000),
      stopBrokerEveryMs: every('FAULT_BROKER_EVERY_MS', 15_000),
      brokerDownForMs: 4000,
      killServiceEveryMs: every('FAULT_KILL_EVERY_MS', 12_000),
    });
    await faults.start();
    const clients: Promise<void>[] = [];
    const started = Date.now();
    for (let index = 0; index < ORDERS; index++) {
      const due = started + (index * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      clients.push(placeAndMaybeCancel(index));
    }
    await faults.stop();
    await Promise.all(clients);

    const accepted = placements.filter((p) => p.accepted);
    const ids = accepted.map((p) => p.orderId);
    const statuses = async () =>
      new Map(
        (
          await query<{ order_id: string; status: string }>(
            'order',
            'SELECT order_id, status FROM order_summaries WHERE order_id = ANY($1::uuid[])',
            [ids],
          )
        ).map((row) => [row.order_id, row.status]),
      );
    const notTerminal = async () => {
      const known = await statuses();
      return ids.filter((id) => !TERMINAL.includes(known.get(id) ?? ''));
    };
    // Quiet now: everything in flight must reach its end.
    await eventually(async () => expect(await notTerminal()).toEqual([]), {
      timeoutMs: 180_000,
      intervalMs: 1000,
    }).catch(() => undefined);
    const finalStatus = await statuses();
    const terminalEventMissing = () =>
      ids.filter((id) => {
        const received = downstream.received.get(id);
        const status = finalStatus.get(id);
        return !status || !received?.has('order.placed') || !received.has(TERMINAL_EVENT[status]);
      });
    await eventually(() => expect(terminalEventMissing()).toEqual([]), {
      timeoutMs: 60_000,
      intervalMs: 500,
    }).catch(() => undefined);

    // Event store: every stream's head matches its events, gapless, in a valid order.
    const [streams] = await query<{ mismatched: number }>(
      'order',
      `SELECT count(*)::int AS mismatched FROM event_streams s
       FULL JOIN (SELECT stream_id, max(stream_position) AS last, count(*) AS n
                  FROM events GROUP BY stream_id) e USING (stream_id)
       WHERE s.version IS DISTINCT FROM e.last OR e.n IS DISTINCT FROM e.last`,
    );
    const events = await query<{ stream_id: string; stream_position: number; type: string }>(
      'order',
      'SELECT stream_id, stream_position, type FROM events ORDER BY stream_id, stream_position',
    );
    const outbox = new Set(
      (await query<{ message_id: string }>('order', 'SELECT message_id FROM outbox')).map(
        (row) => row.message_id,
      ),
    );
    const histories = new Map<string, string[]>();
    for (const event of events) {
      const orderId = event.stream_id.replace(/^order-/, '');
      histories.set(orderId, [...(histories.get(orderId) ?? []), event.type]);
    }
    const withoutOutboxRow = events.filter(
      (e) => !outbox.has(deterministicUuid(`${e.stream_id}:${e.stream_position}`)),
    );
    const invalidHistories = ids.filter(
      (id) => !VALID_HISTORIES.includes((histories.get(id) ?? []).join(',')),
    );

    // Stock: conserved, and held exactly for the confirmed orders (once the inventory has had
    // every release it has coming).
    const held = new Map<string, number>();
    for (const placement of accepted) {
      if (finalStatus.get(placement.orderId) !== 'CONFIRMED') continue;
      for (const line of placement.lines) {
        held.set(line.sku, (held.get(line.sku) ?? 0) + line.quantity);
      }
    }
    const stock = async () => {
      const products = await query<{ sku: string; available: number; reserved: number }>(
        'inventory',
        'SELECT sku, available, reserved FROM products WHERE sku = ANY($1)',
        [CATALOGUE.map((p) => p.sku)],
      );
      return CATALOGUE.map(({ sku, stock: initial }) => ({
        sku,
        initial,
        heldForConfirmed: held.get(sku) ?? 0,
        ...products.find((p) => p.sku === sku),
      }));
    };
    const stockWrong = async () =>
      (await stock()).filter(
        (p) => p.available! + p.reserved! !== p.initial || p.reserved !== p.heldForConfirmed,
      );
    await eventually(async () => expect(await stockWrong()).toEqual([]), {
      timeoutMs: 60_000,
      intervalMs: 1000,
    }).catch(() => undefined);

    // Notifications: one per lifecycle event of each order, every one sent.
    const expectedKinds = (id: string) =>
      (histories.get(id) ?? [])
        .map((type) => KIND_OF_EVENT[type])
        .filter(Boolean)
        .sort()
        .join(',');
    const notifications = async () => {
      const rows = await query<{ order_id: string; kind: string; status: string }>(
        'notification',
        'SELECT order_id, kind, status FROM notifications WHERE order_id = ANY($1::uuid[])',
        [ids],
      );
      const byOrder = new Map<string, { kind: string; status: string }[]>();
      for (const row of rows)
        byOrder.set(row.order_id, [...(byOrder.get(row.order_id) ?? []), row]);
      return byOrder;
    };
    const notificationsWrong = async () => {
      const byOrder = await notifications();
      return ids.filter(
        (id) =>
          (byOrder.get(id) ?? [])
            .map((n) => n.kind)
            .sort()
            .join(',') !== expectedKinds(id),
      );
    };
    const notificationsUndelivered = async () => {
      const byOrder = await notifications();
      return ids.filter((id) => (byOrder.get(id) ?? []).some((n) => n.status !== 'SENT'));
    };
    await eventually(async () => expect(await notificationsWrong()).toEqual([]), {
      timeoutMs: 60_000,
      intervalMs: 1000,
    }).catch(() => undefined);
    // A delivery a killed worker had claimed waits out its lease (60 s) before another sends it.
    await eventually(async () => expect(await notificationsUndelivered()).toEqual([]), {
      timeoutMs: 90_000,
      intervalMs: 1000,
    }).catch(() => undefined);

    // What clients were told.
    const gaveUp = placements.filter((p) => !p.accepted);
    const placedAnyway = (
      await query<{ order_id: string }>(
        'order',
        'SELECT order_id FROM order_summaries WHERE customer_id = ANY($1) AND order_id <> ALL($2::uuid[])',
        [[...new Set(placements.map((p) => p.customer))], ids],
      )
    ).length;
    const cancelsLost = accepted.filter(
      (p) => p.cancel?.answer === 202 && finalStatus.get(p.orderId) !== 'CANCELLED',
    );
    const cancelsUnanswered = accepted.filter((p) => p.cancel && p.cancel.answer === undefined);

    // Dead letters: nothing poisoned by the faults.
    const connection = await amqplib.connect(system.rabbitmqUrl);
    let deadLetters = 0;
    try {
      const channel = await connection.createChannel();
      for (const queue of Object.values(Queues)) {
        deadLetters += (await channel.checkQueue(deadLetterQueueOf(queue.name))).messageCount;
      }
    } finally {
      await connection.close();
    }

    const wrongStock = await stockWrong();
    if (wrongStock.length > 0) console.log('Stock not conserved:', JSON.stringify(wrongStock));
    // The queues, drained or not, and who consumes them.
    const queueDepths: Record<string, string> = {};
    const probe = await amqplib.connect(system.rabbitmqUrl);
    try {
      const channel = await probe.createChannel();
      for (const queue of Object.values(Queues)) {
        const { messageCount, consumerCount } = await channel.checkQueue(queue.name);
        queueDepths[queue.name] = `${messageCount} ready, ${consumerCount} consumers`;
      }
    } finally {
      await probe.close();
    }
    const counts = {
      'accepted orders never terminal': (await notTerminal()).length,
      'orders whose terminal event a downstream queue never received':
        terminalEventMissing().length,
      'streams whose version differs from their events': streams.mismatched,
      'events without an outbox row': withoutOutboxRow.length,
      'orders with an invalid history': invalidHistories.length,
      'SKUs whose stock is not conserved': wrongStock.length,
      'orders whose notifications are not exactly one per event': (await notificationsWrong())
        .length,
      'notifications never delivered': (await notificationsUndelivered()).length,
      'placements never answered': gaveUp.length,
      'orders placed that no client was told of': placedAnyway,
      'cancellations accepted but not applied': cancelsLost.length,
      'cancellations never answered': cancelsUnanswered.length,
      'dead letters': deadLetters,
    };
    const statusCounts: Record<string, number> = {};
    for (const status of finalStatus.values())
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    console.log(
      [
        `Fault run: ${ORDERS} orders at ${RATE}/s, ${accepted.length} accepted ` +
          `(${JSON.stringify(statusCounts)}), ` +
          `${placements.filter((p) => p.cancel).length} cancellations asked for.`,
        `Faults: ${faults.done.terminated} backends terminated, ${faults.done.brokerStops} broker ` +
          `stops, ${faults.done.kills} services killed.`,
        ...Object.entries(counts).map(([what, count]) => `  ${String(count).padStart(5)}  ${what}`),
      ].join('\n'),
    );
    // How long orders waited for their answer, by when they were placed: stalls show here.
    const latencies = await query<{ second: number; orders: number; p50: number; max: number }>(
      'order',
      `SELECT (extract(epoch FROM p.recorded_at - $1::timestamptz) / 10)::int * 10 AS second,
         count(*)::int AS orders,
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.recorded_at - p.recorded_at)))::int AS p50,
         round(max(extract(epoch FROM e.recorded_at - p.recorded_at)))::int AS max
       FROM events p JOIN events e ON e.stream_id = p.stream_id AND e.stream_position = 2
       WHERE p.stream_position = 1 AND p.stream_id = ANY($2)
       GROUP BY 1 ORDER BY 1`,
      [new Date(started), ids.map((id) => `order-${id}`)],
    );
    // Where the time goes: placed -> reserved by the inventory -> answered, per order.
    const reservedAt = new Map(
      (
        await query<{ order_id: string; created_at: Date }>(
          'inventory',
          'SELECT order_id, created_at FROM reservations',
        )
      ).map((row) => [row.order_id, row.created_at.getTime()]),
    );
    const hops = await query<{ order_id: string; placed: Date; answered: Date; reason: string }>(
      'order',
      `SELECT o.order_id, p.recorded_at AS placed, e.recorded_at AS answered, o.reason
       FROM order_summaries o
       JOIN events p ON p.stream_id = 'order-' || o.order_id AND p.stream_position = 1
       JOIN events e ON e.stream_id = 'order-' || o.order_id AND e.stream_position = 2
       WHERE o.order_id = ANY($1::uuid[])`,
      [ids],
    );
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] ?? 0;
    const toInventory = hops
      .filter((h) => reservedAt.has(h.order_id))
      .map((h) => reservedAt.get(h.order_id)! - h.placed.getTime());
    const back = hops
      .filter((h) => reservedAt.has(h.order_id))
      .map((h) => h.answered.getTime() - reservedAt.get(h.order_id)!);
    // The inventory's answers: how long in its outbox, then how long until the order consumed them.
    const published = await query<{ message_id: string; created_at: Date; sent_at: Date }>(
      'inventory',
      `SELECT message_id, created_at, sent_at FROM outbox WHERE routing_key LIKE 'inventory.%'`,
    );
    const consumedAt = new Map(
      (
        await query<{ message_id: string; received_at: Date }>(
          'order',
          'SELECT message_id, received_at FROM inbox',
        )
      ).map((row) => [row.message_id, row.received_at.getTime()]),
    );
    const inOutbox = published.map((row) => row.sent_at.getTime() - row.created_at.getTime());
    const onTheWay = published
      .filter((row) => consumedAt.has(row.message_id))
      .map((row) => consumedAt.get(row.message_id)! - row.sent_at.getTime());
    const reasons: Record<string, number> = {};
    for (const hop of hops) if (hop.reason) reasons[hop.reason] = (reasons[hop.reason] ?? 0) + 1;
    console.log(
      [
        `Median ms: placed -> inventory ${median(toInventory)}, inventory -> answered ${median(back)} ` +
          `(in the inventory's outbox ${median(inOutbox)}, then to the order's inbox ${median(onTheWay)}); ` +
          `rejections by reason ${JSON.stringify(reasons)}`,
        'Placed -> answered (s), by when placed:',
        ...latencies.map((l) => `  +${l.second}s: ${l.orders} orders, p50 ${l.p50}, max ${l.max}`),
        'Faults:',
        ...faults.timeline.map(
          (f) => `  +${Math.round((f.at.getTime() - started) / 1000)}s ${f.what}`,
        ),
      ].join('\n'),
    );
    const clean = Object.values(counts).every((count) => count === 0);
    if (!clean || process.env.FAULT_LOGS) {
      // Leave what is needed to find out why: each service's logs, restarts included.
      for (const [name, service] of system.services) {
        const file = path.join(os.tmpdir(), `ordering-faults-${name}.log`);
        writeFileSync(file, service.history);
        console.log(`${name}'s output: ${file}`);
      }
      console.log(`Queues: ${JSON.stringify(queueDepths)}`);
      const [{ reserved }] = await query<{ reserved: string[] }>(
        'inventory',
        `SELECT array_agg(order_id::text) AS reserved FROM reservations WHERE status = 'RESERVED'`,
      );
      const stuck = (reserved ?? [])
        .filter((id) => finalStatus.get(id) !== 'CONFIRMED')
        .slice(0, 5);
      for (const id of stuck) {
        console.log(
          `Order ${id}: ${finalStatus.get(id)}, history ${JSON.stringify(histories.get(id))}, ` +
            `reservation ${JSON.stringify(
              await query('inventory', 'SELECT * FROM reservations WHERE order_id = $1', [id]),
            )}, inventory outbox ${JSON.stringify(
              await query(
                'inventory',
                'SELECT routing_key, created_at, sent_at, attempts FROM outbox WHERE aggregate_id = $1',
                [id],
              ),
            )}, order events ${JSON.stringify(
              await query(
                'order',
                `SELECT type, recorded_at, metadata->>'causationId' AS cause FROM events
                 WHERE stream_id = 'order-' || $1 ORDER BY stream_position`,
                [id],
              ),
            )}`,
        );
      }
    }
    expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((what) => [what, 0])));
    if (!process.env.FAULT_TERMINATE_EVERY_MS && !process.env.FAULT_BROKER_EVERY_MS) {
      expect(faults.done.brokerStops).toBeGreaterThanOrEqual(1);
      expect(faults.done.kills).toBeGreaterThanOrEqual(1);
      expect(faults.done.terminated).toBeGreaterThan(0);
    }
  }, 900_000);
});
