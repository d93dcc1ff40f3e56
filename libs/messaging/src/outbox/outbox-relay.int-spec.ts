import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { CloudEvent } from '@ordering/contracts';
import { BrokerModule } from '@ordering/platform';
import { createTestDatabase, eventually, RABBITMQ_URL, TcpProxy } from '@ordering/testing';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  CreateOutboxAndInbox1764300060000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
} from '../messaging.migration.js';
import type { MessagingOptions } from '../messaging.module-definition.js';
import { MessagingModule } from '../messaging.module.js';
import { OutboxRelay } from './outbox-relay.js';
import { addToOutbox } from './outbox.js';

const run = randomUUID().slice(0, 8);
const exchange = `test-${run}.relay.events`;
const unroutableExchange = `test-${run}.nobody.events`;

function event(aggregate: string, sequence: number): CloudEvent {
  const id = randomUUID();
  return {
    specversion: '1.0',
    id,
    source: '/ordering/test',
    type: 'test.happened',
    subject: aggregate,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'https://ordering.example/schemas/test.happened/v1.json',
    correlationid: id,
    causationid: id,
    data: { sequence },
  };
}

describe('OutboxRelay (real RabbitMQ and PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let broker: TcpProxy;
  let connection: amqplib.ChannelModel;
  let channel: amqplib.Channel;
  const relays: TestingModule[] = [];
  const received: CloudEvent<{ sequence: number }>[] = [];
  const queue = `test-${run}.relay.received`;

  async function startRelay(options: Partial<MessagingOptions> = {}): Promise<TestingModule> {
    const relay = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, extra: { max: 2 } }),
        BrokerModule.forRoot({
          url: `amqp://guest:guest@127.0.0.1:${broker.port}`,
          connectionName: 'relay-test',
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

  const commit = (events: CloudEvent[], target = exchange, dataSource = database.dataSource) =>
    dataSource.transaction((tx) =>
      addToOutbox(
        tx,
        events.map((e) => ({ exchange: target, event: e })),
      ),
    );

  const receivedOf = (aggregate: string) =>
    received.filter((e) => e.subject === aggregate).map((e) => e.data.sequence);

  beforeAll(async () => {
    database = await createTestDatabase('relay', [
      CreateOutboxAndInbox1764300060000,
      DropOutboxNotifyTrigger1764400000000,
      SlimOutboxIndexes1764400010000,
    ]);
    broker = await new TcpProxy('127.0.0.1', 5672).start();
    connection = await amqplib.connect(RABBITMQ_URL);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    await channel.assertExchange(unroutableExchange, 'topic', { durable: false });
    await channel.assertQueue(queue, { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    await channel.consume(queue, (message) => {
      if (!message) return;
      expect(message.properties).toMatchObject({
        contentType: 'application/cloudevents+json',
        deliveryMode: 2,
        type: 'test.happened',
      });
      received.push(JSON.parse(message.content.toString()));
      channel.ack(message);
    });
  });

  afterAll(async () => {
    for (const relay of relays) await relay.close().catch(() => undefined);
    await channel?.deleteExchange(exchange);
    await channel?.deleteExchange(unroutableExchange);
    await connection?.close();
    await broker?.stop();
    await database?.drop();
  });

  it('publishes committed messages with their CloudEvent attributes, and marks them sent', async () => {
    await startRelay();
    const message = event('aggregate-a', 1);
    await commit([message]);

    await eventually(() => expect(receivedOf('aggregate-a')).toEqual([1]));
    expect(received.find((e) => e.id === message.id)).toEqual(message);
    await eventually(async () => {
      const [row] = await database.dataSource.query(
        'SELECT sent_at FROM outbox WHERE message_id = $1',
        [message.id],
      );
      expect(row.sent_at).not.toBeNull();
    });
  });

  it('delivers what was committed while the broker was down once it is back', async () => {
    await broker.cut();
    await commit([event('aggregate-b', 1), event('aggregate-b', 2)]);
    await commit([event('aggregate-b', 3)]);
    const [{ unsent }] = await database.dataSource.query(
      `SELECT count(*)::int AS unsent FROM outbox WHERE sent_at IS NULL`,
    );
    expect(unsent).toBe(3);

    await broker.restore();
    await eventually(() => expect(receivedOf('aggregate-b')).toEqual([1, 2, 3]), {
      timeoutMs: 30_000,
    });
    // An outage is not the messages' fault: none of them was marked failed or held back.
    const failures = await database.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = 'aggregate-b' AND last_error IS NOT NULL`,
    );
    expect(failures).toEqual([{ n: 0 }]);
  });

  it('treats an unroutable message as an error: not marked sent, the reason recorded', async () => {
    const lost = event('aggregate-c', 1);
    await commit([lost], unroutableExchange);

    await eventually(async () => {
      const [row] = await database.dataSource.query(
        'SELECT sent_at, attempts, last_error FROM outbox WHERE message_id = $1',
        [lost.id],
      );
      expect(row).toMatchObject({
        sent_at: null,
        last_error: expect.stringContaining('unroutable'),
      });
      expect(row.attempts).toBeGreaterThanOrEqual(1);
    });
  });

  it('keeps each aggregate in order with two relays running, one taking over from the other', async () => {
    const second = await startRelay();
    const leaders = () => relays.filter((r) => r.get(OutboxRelay).isLeader).length;
    expect(leaders()).toBeLessThanOrEqual(1);

    const aggregates = Array.from({ length: 8 }, (_, i) => `aggregate-d${i}`);
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
          expect(receivedOf(aggregate)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        }
      },
      { timeoutMs: 30_000 },
    );
    expect(relays).toContain(second);
  });

  it('is woken by a commit: directly in its own process, by a NOTIFY from another process', async () => {
    // Only these two relays run, and they poll once a minute: what is published within seconds
    // was woken by the commit.
    for (const relay of relays.splice(0)) await relay.close();
    const leading = await startRelay({ relayPollIntervalMs: 60_000 });
    await eventually(() => expect(leading.get(OutboxRelay).isLeader).toBe(true));
    const standing = await startRelay({ relayPollIntervalMs: 60_000 });

    await commit([event('aggregate-e', 1)], exchange, leading.get(DataSource));
    await eventually(() => expect(receivedOf('aggregate-e')).toEqual([1]), { timeoutMs: 5_000 });

    expect(standing.get(OutboxRelay).isLeader).toBe(false);
    await commit([event('aggregate-e', 2)], exchange, standing.get(DataSource));
    await eventually(() => expect(receivedOf('aggregate-e')).toEqual([1, 2]), { timeoutMs: 5_000 });
  });

  it('refuses messages outside a transaction: they could outlive a change that rolls back', async () => {
    await expect(
      addToOutbox(database.dataSource.manager, [{ exchange, event: event('aggregate-f', 1) }]),
    ).rejects.toThrow('addToOutbox needs the transaction');
  });

  it('deletes sent rows once they are older than the retention, and keeps the rest', async () => {
    for (const relay of relays.splice(0)) await relay.close();
    const rows = (aggregate: string) =>
      database.dataSource.query<{ sent: boolean }[]>(
        'SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE aggregate_id = $1',
        [aggregate],
      );
    // Rows written 30 hours ago, before anything else still in the table, as ids grow with time.
    await database.dataSource.query('DELETE FROM outbox');
    await commit([event('aggregate-old-sent', 1), event('aggregate-old-stuck', 1)]);
    await database.dataSource.query(
      `UPDATE outbox SET created_at = now() - interval '30 hours',
         sent_at = CASE aggregate_id WHEN 'aggregate-old-sent' THEN now() - interval '29 hours' END,
         next_attempt_at = now() + interval '1 day', attempts = 3
       WHERE aggregate_id IN ('aggregate-old-sent', 'aggregate-old-stuck')`,
    );
    await commit([event('aggregate-recent', 1)]);

    await startRelay({ outboxRetentionHours: 24 });
    await eventually(async () => expect(await rows('aggregate-old-sent')).toEqual([]));
    expect(await rows('aggregate-old-stuck')).toEqual([{ sent: false }]);
    await eventually(async () => expect(await rows('aggregate-recent')).toEqual([{ sent: true }]));
  });
});
