import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { orderConfirmedV1, type CloudEvent, type OrderConfirmedV1 } from '@ordering/contracts';
import { BrokerModule, Database, DatabaseModule, poolSettings } from '@ordering/platform';
import {
  ConnectionFaults,
  createTestDatabase,
  createTestVhost,
  eventually,
  TcpProxy,
  testEvent,
  type TestDatabase,
} from '@ordering/testing';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import {
  CreateOutboxAndInbox1764300060000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
} from '../messaging.migration.js';
import type { MessagingOptions } from '../messaging.module-definition.js';
import { MessagingModule } from '../messaging.module.js';
import { OutboxRelay } from './outbox-relay.js';
import { addToOutbox, InvalidOutgoingEventError } from './outbox.js';

const exchange = 'test.relay.events';
const unboundExchange = 'test.nobody.events';

/** One message of `aggregate` (an order id), numbered by `sequence` (its version). */
const event = (aggregate: string, sequence: number) =>
  testEvent(orderConfirmedV1, {
    orderId: aggregate,
    status: 'CONFIRMED',
    version: sequence,
    occurredAt: new Date().toISOString(),
  });

describe('OutboxRelay (real RabbitMQ and PostgreSQL)', () => {
  let database: TestDatabase;
  let vhost: { url: string; remove: () => Promise<void> };
  let broker: TcpProxy;
  let connection: amqplib.ChannelModel;
  let channel: amqplib.Channel;
  const relays: TestingModule[] = [];
  const received: CloudEvent<OrderConfirmedV1>[] = [];
  const queue = 'test.relay.received';

  async function startRelay(options: Partial<MessagingOptions> = {}): Promise<TestingModule> {
    const url = new URL(vhost.url);
    url.port = String(broker.port);
    const relay = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: database.url,
          extra: poolSettings(database.url, 'relay-test', 3),
        }),
        DatabaseModule,
        BrokerModule.forRoot({
          urls: [url.toString()],
          connectionName: 'relay-test',
          exchanges: [],
        }),
        MessagingModule.forRoot({
          relayBatchSize: 50,
          relayPollIntervalMs: 200,
          outboxRetentionHours: 24,
          ...options,
        }),
      ],
    }).compile();
    await relay.init();
    relays.push(relay);
    return relay;
  }

  const commit = (events: CloudEvent[], target = exchange, via = database.database) =>
    via.transaction((tx) =>
      addToOutbox(
        tx,
        events.map((e) => ({ exchange: target, event: e })),
      ),
    );

  const receivedOf = (aggregate: string) =>
    received.filter((e) => e.subject === aggregate).map((e) => e.data.version);
  const rowOf = async (messageId: string) =>
    (
      await database.dataSource.query(
        'SELECT sent_at, attempts, last_error FROM outbox WHERE message_id = $1',
        [messageId],
      )
    )[0] as { sent_at: Date | null; attempts: number; last_error: string | null };

  beforeAll(async () => {
    database = await createTestDatabase('relay', [
      CreateOutboxAndInbox1764300060000,
      DropOutboxNotifyTrigger1764400000000,
      SlimOutboxIndexes1764400010000,
    ]);
    vhost = await createTestVhost('relay');
    broker = await new TcpProxy('127.0.0.1', 5672).start();
    connection = await amqplib.connect(vhost.url);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    await channel.assertExchange(unboundExchange, 'topic', { durable: false });
    await channel.assertQueue(queue, { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    await channel.consume(queue, (message) => {
      if (!message) return;
      expect(message.properties).toMatchObject({
        contentType: 'application/cloudevents+json',
        deliveryMode: 2,
        type: 'order.confirmed',
      });
      received.push(JSON.parse(message.content.toString()));
      channel.ack(message);
    });
  });

  afterAll(async () => {
    for (const relay of relays) await relay.close().catch(() => undefined);
    await connection?.close();
    await broker?.stop();
    await vhost?.remove();
    await database?.drop();
  });

  it('publishes committed messages with their CloudEvent attributes, and marks them sent', async () => {
    await startRelay();
    const a = randomUUID();
    const message = event(a, 1);
    await commit([message]);

    await eventually(() => expect(receivedOf(a)).toEqual([1]));
    expect(received.find((e) => e.id === message.id)).toEqual(message);
    await eventually(async () => expect((await rowOf(message.id)).sent_at).not.toBeNull());
  });

  it('marks what the broker confirmed sent with its next read, no statement of its own', async () => {
    const texts: string[] = [];
    const stopObserving = relays[0]
      .get(Database)
      .observeStatements(({ text }) => void texts.push(text));
    try {
      const messages = [randomUUID(), randomUUID()].map((aggregate) => event(aggregate, 1));
      await commit(messages);
      for (const { id } of messages) {
        await eventually(async () => expect((await rowOf(id)).sent_at).not.toBeNull());
      }
    } finally {
      stopObserving();
    }
    const marking = texts.filter((text) => /UPDATE outbox SET sent_at/.test(text));
    expect(marking).toEqual([expect.stringMatching(/^\s*WITH marked AS/)]);
  });

  it('delivers what was committed while the broker was down once it is back', async () => {
    const b = randomUUID();
    await broker.cut();
    await commit([event(b, 1), event(b, 2)]);
    await commit([event(b, 3)]);
    const [{ unsent }] = await database.dataSource.query(
      `SELECT count(*)::int AS unsent FROM outbox WHERE sent_at IS NULL`,
    );
    expect(unsent).toBe(3);

    await broker.restore();
    await eventually(() => expect(receivedOf(b)).toEqual([1, 2, 3]), { timeoutMs: 30_000 });
    // An outage is not the messages' fault: none of them was marked failed or held back.
    const failures = await database.dataSource.query(
      'SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = $1 AND last_error IS NOT NULL',
      [b],
    );
    expect(failures).toEqual([{ n: 0 }]);
  });

  it('treats an unroutable message as an error: not marked sent, the reason recorded', async () => {
    const lost = event(randomUUID(), 1);
    await commit([lost], unboundExchange);

    await eventually(async () => {
      const row = await rowOf(lost.id);
      expect(row).toMatchObject({
        sent_at: null,
        last_error: expect.stringContaining('unroutable'),
      });
      expect(row.attempts).toBeGreaterThanOrEqual(1);
    });
  });

  it('never publishes an aggregate’s message past an earlier one the broker refused', async () => {
    const x = randomUUID();
    const first = event(x, 1);
    // In one transaction: the first goes nowhere yet (returned as unroutable), the second would
    // be deliverable.
    await database.database.transaction((tx) =>
      addToOutbox(tx, [
        { exchange: unboundExchange, event: first },
        { exchange, event: event(x, 2) },
      ]),
    );
    await eventually(async () => expect((await rowOf(first.id)).attempts).toBeGreaterThan(0));
    // Other aggregates keep flowing meanwhile.
    const other = randomUUID();
    await commit([event(other, 1)]);
    await eventually(() => expect(receivedOf(other)).toEqual([1]));
    expect(receivedOf(x)).toEqual([]);

    // Once the first can be delivered, both go out, the first first.
    await channel.bindQueue(queue, unboundExchange, '#');
    await database.dataSource.query(
      'UPDATE outbox SET next_attempt_at = now() WHERE message_id = $1',
      [first.id],
    );
    await eventually(() => expect(receivedOf(x)).toEqual([1, 2]), { timeoutMs: 10_000 });
    await channel.unbindQueue(queue, unboundExchange, '#');
  });

  it('fails only the messages for an exchange that does not exist, and keeps publishing the rest', async () => {
    const missing = event(randomUUID(), 1);
    const fine = randomUUID();
    await commit([missing], 'test.no-such-exchange');
    await commit([event(fine, 1)]);
    await eventually(() => expect(receivedOf(fine)).toEqual([1]), { timeoutMs: 10_000 });
    await eventually(async () =>
      expect(await rowOf(missing.id)).toMatchObject({
        sent_at: null,
        last_error: expect.stringContaining('NOT_FOUND'),
      }),
    );
    // The channel the broker closed for it is open again.
    const later = randomUUID();
    await commit([event(later, 1)]);
    await eventually(() => expect(receivedOf(later)).toEqual([1]), { timeoutMs: 10_000 });
  });

  it('publishes a message whose mark-sent lost its connection again, and marks it sent', async () => {
    const faults = await new ConnectionFaults(relays[0].get(Database)).start();
    try {
      const y = randomUUID();
      const message = event(y, 1);
      // The next read, which carries the mark, loses its connection; then so does the mark on
      // its own that the relay falls back to.
      const readBroken = faults.breakBefore({
        label: 'outbox-relay',
        text: /UPDATE outbox SET sent_at/,
      });
      await commit([message]);
      await readBroken;
      await faults.breakBefore({ label: 'autocommit', text: /^UPDATE outbox SET sent_at/ });
      await eventually(async () => expect((await rowOf(message.id)).sent_at).not.toBeNull(), {
        timeoutMs: 10_000,
      });
      // Delivered at least once (consumers deduplicate on the id), and never lost.
      expect(receivedOf(y).length).toBeGreaterThanOrEqual(1);
      await eventually(() =>
        expect(relays.some((relay) => relay.get(OutboxRelay).isLeader)).toBe(true),
      );
    } finally {
      await faults.stop();
    }
  });

  it('keeps each aggregate in order with two relays running, one taking over from the other', async () => {
    const second = await startRelay();
    const leaders = () => relays.filter((r) => r.get(OutboxRelay).isLeader).length;
    expect(leaders()).toBeLessThanOrEqual(1);

    const aggregates = Array.from({ length: 8 }, () => randomUUID());
    const write = async (from: number, to: number) => {
      for (let sequence = from; sequence <= to; sequence++) {
        await Promise.all(aggregates.map((a) => commit([event(a, sequence)])));
      }
    };
    await write(1, 20);
    // Stop whichever relay leads; the other must take over without losing or reordering.
    const leader = relays.find((r) => r.get(OutboxRelay).isLeader) ?? relays[0];
    await leader.close();
    relays.splice(relays.indexOf(leader), 1);
    await write(21, 40);

    await eventually(
      () => {
        for (const aggregate of aggregates) {
          // At least once: a takeover may publish again what the old leader had not marked.
          const seen = [...new Set(receivedOf(aggregate))];
          expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        }
      },
      { timeoutMs: 30_000 },
    );
    for (const aggregate of aggregates) {
      const versions = receivedOf(aggregate);
      expect(versions).toEqual([...versions].sort((p, q) => p - q));
    }
    expect(relays).toContain(second);
  });

  it('is woken by a commit: directly in its own process, by a NOTIFY from another process', async () => {
    // Only these two relays run, and they poll once a minute: what is published within seconds
    // was woken by the commit.
    for (const relay of relays.splice(0)) await relay.close();
    // Rows earlier tests left failing wait: one for a missing exchange gets the channel closed
    // each time it is tried, and the reopen delay would be measured here instead of the wake-up.
    await database.dataSource.query(
      "UPDATE outbox SET next_attempt_at = now() + interval '1 day' WHERE sent_at IS NULL",
    );
    const leading = await startRelay({ relayPollIntervalMs: 60_000 });
    await eventually(() => expect(leading.get(OutboxRelay).isLeader).toBe(true));
    const standing = await startRelay({ relayPollIntervalMs: 60_000 });
    const e = randomUUID();

    await commit([event(e, 1)], exchange, leading.get(Database));
    await eventually(() => expect(receivedOf(e)).toEqual([1]), { timeoutMs: 5_000 });

    expect(standing.get(OutboxRelay).isLeader).toBe(false);
    await commit([event(e, 2)], exchange, standing.get(Database));
    await eventually(() => expect(receivedOf(e)).toEqual([1, 2]), { timeoutMs: 5_000 });
  });

  it('refuses an event that breaks its own contract, and the change that caused it with it', async () => {
    const f = randomUUID();
    const broken = { ...event(f, 1), correlationid: '' };
    await expect(commit([broken])).rejects.toBeInstanceOf(InvalidOutgoingEventError);
    expect(await rowOf(broken.id)).toBeUndefined();
  });

  it('deletes sent rows once they are older than the retention, and keeps the rest', async () => {
    for (const relay of relays.splice(0)) await relay.close();
    const [oldSent, oldStuck, recent] = [randomUUID(), randomUUID(), randomUUID()];
    const rows = (aggregate: string) =>
      database.dataSource.query<{ sent: boolean }[]>(
        'SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE aggregate_id = $1',
        [aggregate],
      );
    // Rows written 30 hours ago, before anything else still in the table, as ids grow with time.
    await database.dataSource.query('DELETE FROM outbox');
    await commit([event(oldSent, 1), event(oldStuck, 1)]);
    await database.dataSource.query(
      `UPDATE outbox SET created_at = now() - interval '30 hours',
         sent_at = CASE aggregate_id WHEN $1 THEN now() - interval '29 hours' END,
         next_attempt_at = now() + interval '1 day', attempts = 3
       WHERE aggregate_id IN ($1, $2)`,
      [oldSent, oldStuck],
    );
    await commit([event(recent, 1)]);

    await startRelay({ outboxRetentionHours: 24 });
    await eventually(async () => expect(await rows(oldSent)).toEqual([]));
    expect(await rows(oldStuck)).toEqual([{ sent: false }]);
    await eventually(async () => expect(await rows(recent)).toEqual([{ sent: true }]));
  });
});
