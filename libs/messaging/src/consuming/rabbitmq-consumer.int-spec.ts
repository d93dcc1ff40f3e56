import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { retryQueueOf, validateEvent, type CloudEvent } from '@ordering/contracts';
import {
  BrokerConnection,
  DependencyUnavailableError,
  type ManagedChannel,
} from '@ordering/platform';
import {
  ConnectionFaults,
  createTestDatabase,
  createTestVhost,
  eventually,
  type TestDatabase,
} from '@ordering/testing';
import amqplib, { type ConfirmChannel } from 'amqplib';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateOutboxAndInbox1764300060000 } from '../messaging.migration.js';
import { EventContext } from './event-context.js';
import { type MessageEffect, RabbitMqConsumer } from './rabbitmq-consumer.js';
import { PassHandlerErrorsThrough } from './rpc-errors.filter.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../../..');
const exchange = 'test.order.events';
const queue = 'test.consumer.order.events';
const retry = { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 };
const failures = new Map<string, number>();
let fixed = false;
let slowStarted = 0;

/** Records each event it applies; misbehaves on demand, by customer id. */
@Controller()
class RecordingHandler {
  @EventPattern<string>('order.placed')
  placed(
    @Payload() event: CloudEvent<{ customerId: string }>,
    @Ctx() context: EventContext,
  ): MessageEffect {
    const behaviour = event.data.customerId;
    const failed = failures.get(event.id) ?? 0;
    // Before the transaction: a service it asks is down, five times over.
    if (behaviour === 'dependency-down' && failed < 5) {
      failures.set(event.id, failed + 1);
      throw new DependencyUnavailableError('the order API cannot be reached');
    }
    return async (tx) => {
      await tx.query('INSERT INTO effects (message_id, attempt, aggregate) VALUES ($1, $2, $3)', [
        event.id,
        context.attempt,
        event.subject,
      ]);
      if (behaviour === 'slow') {
        slowStarted++;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const fails =
        behaviour === 'always-fails' ||
        (behaviour === 'fails-twice' && failed < 2) ||
        (behaviour === 'fails-once' && failed < 1) ||
        (behaviour === 'fixed-later' && !fixed);
      if (fails) {
        failures.set(event.id, failed + 1);
        throw new Error(`handler failure ${failed + 1}`);
      }
    };
  }
}

function orderPlaced(
  customerId: string,
  id = randomUUID(),
  orderId: string = randomUUID(),
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/ordering/order',
    type: 'order.placed',
    subject: orderId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: 'https://ordering.example/schemas/order.placed/v1.json',
    correlationid: id,
    causationid: id,
    data: {
      orderId,
      customerId,
      lines: [{ sku: 'MUG', quantity: 1, unitPrice: 900 }],
      total: 900,
      currency: 'EUR',
      placedAt: new Date().toISOString(),
      version: 1,
    },
  };
}

describe('RabbitMqConsumer (real RabbitMQ and PostgreSQL)', () => {
  let database: TestDatabase;
  let vhost: { url: string; remove: () => Promise<void> };
  let broker: BrokerConnection;
  let consumer: RabbitMqConsumer;
  let app: INestMicroservice;
  let connection: amqplib.ChannelModel;
  let channel: amqplib.Channel;

  const publish = (
    body: string | CloudEvent,
    options: { messageId?: string; headers?: Record<string, unknown> } = {},
  ) =>
    channel.publish(
      exchange,
      'order.placed',
      Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
      {
        persistent: true,
        messageId: options.messageId ?? (typeof body === 'string' ? randomUUID() : body.id),
        type: 'order.placed',
        headers: options.headers,
      },
    );

  const effectsOf = async (id: string) =>
    (await database.dataSource.query(
      'SELECT attempt FROM effects WHERE message_id = $1 ORDER BY attempt',
      [id],
    )) as { attempt: number }[];
  const inboxHas = async (id: string) =>
    ((await database.dataSource.query('SELECT 1 FROM inbox WHERE message_id = $1', [id])) as [])
      .length;

  /** The dead letters as they stand, left in their queue. */
  async function peekDeadLetters(): Promise<amqplib.GetMessage[]> {
    const browser = await connection.createChannel();
    const found: amqplib.GetMessage[] = [];
    for (let message; (message = await browser.get(`${queue}.dlq`, { noAck: false }));) {
      found.push(message);
    }
    await browser.close(); // unacknowledged: all go back
    return found;
  }

  async function startConsumer(): Promise<INestMicroservice> {
    const module = await Test.createTestingModule({ controllers: [RecordingHandler] }).compile();
    consumer = new RabbitMqConsumer({
      broker,
      database: database.database,
      consumer: 'test',
      queue: { name: queue, exchange, routingKeys: ['order.placed'] },
      prefetch: 10,
      // Long enough that messages published together are handled as one batch.
      batch: { size: 5, lingerMs: 150 },
      retry,
      inboxRetentionDays: 7,
      validate: validateEvent,
    });
    const microservice = module.createNestMicroservice({ strategy: consumer, logger: false });
    microservice.useGlobalFilters(new PassHandlerErrorsThrough());
    await microservice.listen();
    return microservice;
  }

  const consumerChannel = () => consumer.unwrap<ManagedChannel<ConfirmChannel>>();

  beforeAll(async () => {
    database = await createTestDatabase('consumer', [CreateOutboxAndInbox1764300060000]);
    await database.dataSource.query(
      `CREATE TABLE effects (seq serial, message_id uuid, attempt int,
         tx xid8 DEFAULT pg_current_xact_id(), aggregate text)`,
    );
    vhost = await createTestVhost('consumer');
    broker = new BrokerConnection({
      urls: [vhost.url],
      connectionName: 'consumer-test',
      // The test plays the publisher, whose exchange the consumer only checks.
      exchanges: [exchange],
    });
    app = await startConsumer();
    connection = await amqplib.connect(vhost.url);
    channel = await connection.createChannel();
    await eventually(() => expect(consumerChannel().current).toBeDefined());
  });

  afterAll(async () => {
    await app?.close();
    await broker?.onApplicationShutdown();
    await connection?.close();
    await vhost?.remove();
    await database?.drop();
  });

  const deadLetterOf = (messageId: string) =>
    eventually(async () => {
      const found = (await peekDeadLetters()).find((m) => m.properties.messageId === messageId);
      if (!found) throw new Error(`${messageId} is not dead-lettered (yet)`);
      return found;
    });

  it('applies a message delivered twice only once', async () => {
    const event = orderPlaced('customer-1');
    publish(event);
    publish(event);
    await eventually(async () => expect(await effectsOf(event.id)).toHaveLength(1));
    // The second delivery is acknowledged too: nothing is left in the queue.
    await eventually(async () => expect((await channel.checkQueue(queue)).messageCount).toBe(0));
    expect(await effectsOf(event.id)).toHaveLength(1);
  });

  it('dead-letters an unparseable message with its reason, while later messages keep flowing', async () => {
    const poisonId = randomUUID();
    publish('{"not json', { messageId: poisonId });
    const after = orderPlaced('customer-2');
    publish(after);

    const poison = await deadLetterOf(poisonId);
    expect(poison.properties.headers?.['x-death-reason']).toBe('unparseable');
    expect(poison.content.toString()).toBe('{"not json');
    await eventually(async () => expect(await effectsOf(after.id)).toHaveLength(1));
  });

  it('dead-letters a message that breaks its schema, naming the field', async () => {
    const invalid = orderPlaced('customer-3');
    (invalid.data as { total: unknown }).total = 'a lot';
    publish(invalid);

    const dead = await deadLetterOf(invalid.id);
    expect(dead.properties.headers?.['x-death-reason']).toBe('invalid');
    expect(String(dead.properties.headers?.['x-last-error'])).toContain('total');
    expect(await effectsOf(invalid.id)).toHaveLength(0);
  });

  it('retries a failing handler with backoff and applies it once when it succeeds', async () => {
    const event = orderPlaced('fails-twice');
    publish(event);
    // Failed attempts roll back their effect with the rest of their transaction.
    await eventually(async () => expect(await effectsOf(event.id)).toEqual([{ attempt: 3 }]));
    expect(failures.get(event.id)).toBe(2);
  });

  it('dead-letters a message whose handler keeps failing, with the last error and attempts', async () => {
    const event = orderPlaced('always-fails');
    publish(event);

    const dead = await deadLetterOf(event.id);
    expect(dead.properties.headers).toMatchObject({
      'x-death-reason': 'handler-failed',
      'x-attempts': retry.attempts,
      'x-last-error': 'Error: handler failure 3',
    });
    expect(await effectsOf(event.id)).toHaveLength(0);
  });

  it('waits out a dependency that is down without using up the message’s attempts', async () => {
    const event = orderPlaced('dependency-down');
    publish(event);
    // Five failures, more than the three attempts it has: still its first attempt, applied.
    await eventually(async () => expect(await effectsOf(event.id)).toEqual([{ attempt: 1 }]), {
      timeoutMs: 20_000,
    });
    expect(failures.get(event.id)).toBe(5);
    expect((await peekDeadLetters()).map((m) => m.properties.messageId)).not.toContain(event.id);
  });

  it('takes an x-attempt header that is not a small positive integer for a first delivery', async () => {
    const good = ['x', -3, 0, 1e9, '2.5', { nested: true }].map((attempt) => {
      const event = orderPlaced('customer-odd-header');
      publish(event, { headers: { 'x-attempt': attempt } });
      return event;
    });
    for (const event of good) {
      await eventually(async () => expect(await effectsOf(event.id)).toEqual([{ attempt: 1 }]));
    }
    // A failing one with a garbage count is still retried a bounded number of times.
    const failing = orderPlaced('always-fails');
    publish(failing, { headers: { 'x-attempt': 'NaN' } });
    const dead = await deadLetterOf(failing.id);
    expect(dead.properties.headers).toMatchObject({ 'x-attempts': retry.attempts });
  });

  it('returns a message to its queue when the broker refuses its retry copy, and loses nothing', async () => {
    // The first retry's delay queue is gone: copies sent to it are unroutable.
    await channel.deleteQueue(retryQueueOf(queue, retry.baseDelayMs));
    const event = orderPlaced('fails-once');
    publish(event);
    // Redelivered from its own queue (still its first attempt), it now succeeds: applied once.
    await eventually(async () => expect(await effectsOf(event.id)).toEqual([{ attempt: 1 }]), {
      timeoutMs: 15_000,
    });
    expect(failures.get(event.id)).toBe(1);
    // The delay queue comes back with the consumer's next channel.
    await consumerChannel().current!.close();
    await eventually(async () => {
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      await probe.checkQueue(retryQueueOf(queue, retry.baseDelayMs));
      await probe.close();
    });
  });

  it('reopens its channel when the broker closes it, and says so in the meantime', async () => {
    await eventually(() => expect(consumerChannel().current).toBeDefined());
    const before = consumerChannel().current!;
    // A publish to a missing exchange makes the broker close the channel (404).
    before.publish('no-such-exchange', 'x', Buffer.from('{}'));
    await eventually(
      () =>
        expect(broker.problems()).toEqual([
          expect.stringMatching(/channel consumer of .* is closed: .*NOT_FOUND/),
        ]),
      { intervalMs: 5 },
    );
    await eventually(() => expect(consumerChannel().current).toBeDefined());
    expect(consumerChannel().current).not.toBe(before);
    expect(broker.problems()).toEqual([]);

    const event = orderPlaced('customer-after-reopen');
    publish(event);
    await eventually(async () => expect(await effectsOf(event.id)).toHaveLength(1));
  });

  it('comes back when the broker cancels it (its queue deleted), declaring the queue again', async () => {
    await channel.deleteQueue(queue);
    // Back once its queue is there again with a consumer on it (its bindings come before that).
    await eventually(async () => {
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      const { consumerCount } = await probe.checkQueue(queue);
      await probe.close();
      expect(consumerCount).toBe(1);
    });
    const event = orderPlaced('customer-after-cancel');
    publish(event);
    await eventually(async () => expect(await effectsOf(event.id)).toHaveLength(1));
  });

  it('applies a message exactly once whatever statement of its transaction loses the connection', async () => {
    const faults = await new ConnectionFaults(database.database).start();
    try {
      const label = 'consume order.placed';
      const probe = orderPlaced('customer-probe');
      const statements = await faults.statementsOf({ label }, async () => {
        publish(probe);
        await eventually(async () => expect(await effectsOf(probe.id)).toHaveLength(1));
      });
      expect(statements).toEqual([
        'BEGIN',
        expect.stringContaining('INSERT INTO effects'),
        expect.stringContaining('INSERT INTO inbox'),
        'COMMIT',
      ]);
      for (const [index, text] of statements.entries()) {
        const event = orderPlaced('customer-faulted');
        const broken = faults.breakBefore({ label, index });
        publish(event);
        expect(await broken).toBe(text);
        await eventually(async () => expect(await effectsOf(event.id)).toEqual([{ attempt: 1 }]));
        expect(await inboxHas(event.id)).toBe(1);
      }
    } finally {
      await faults.stop();
    }
  });

  describe('in batches', () => {
    /** The effects of these events: their transactions and the order they were applied in. */
    const appliedOf = async (events: CloudEvent[]) =>
      (await database.dataSource.query(
        `SELECT message_id AS id, attempt, tx::text AS tx FROM effects
         WHERE message_id = ANY($1::uuid[]) ORDER BY seq`,
        [events.map((event) => event.id)],
      )) as { id: string; attempt: number; tx: string }[];

    it('applies the messages published together in one transaction, in delivery order', async () => {
      const orderId = randomUUID();
      const events = Array.from({ length: 5 }, () =>
        orderPlaced('customer-batch', randomUUID(), orderId),
      );
      events.forEach((event) => publish(event));
      await eventually(async () => expect(await appliedOf(events)).toHaveLength(5));
      const applied = await appliedOf(events);
      expect(applied.map((row) => row.id)).toEqual(events.map((event) => event.id));
      expect(new Set(applied.map((row) => row.tx)).size).toBe(1);
    });

    it('dead-letters a poison message alone; the rest of its batch is applied once', async () => {
      const events = ['customer-a', 'always-fails', 'customer-b', 'customer-c'].map((customer) =>
        orderPlaced(customer),
      );
      events.forEach((event) => publish(event));
      const [poison, ...good] = [events[1], events[0], events[2], events[3]];
      await deadLetterOf(poison.id);
      expect(await appliedOf([poison])).toEqual([]);
      const applied = await appliedOf(good);
      // In delivery order, each once, at its first attempt.
      expect(applied.map((row) => [row.id, row.attempt])).toEqual(
        [events[0], events[2], events[3]].map((event) => [event.id, 1]),
      );
    });

    it('acknowledges no delivery its batch does not hold: a dead letter not yet moved is kept', async () => {
      // The dead-letter queue is gone: the copy of an unparseable message comes back unroutable
      // and the message returns to its queue, again and again, while the messages published
      // after it are applied as a batch and acknowledged.
      await channel.deleteQueue(`${queue}.dlq`);
      const poisonId = randomUUID();
      publish('{not json', { messageId: poisonId });
      const events = [orderPlaced('customer-d'), orderPlaced('customer-e')];
      events.forEach((event) => publish(event));
      await eventually(async () => expect(await appliedOf(events)).toHaveLength(2));
      // The dead-letter queue comes back with the consumer's next channel, and the message the
      // batch's acknowledgement did not take lands there.
      await consumerChannel().current!.close();
      await eventually(async () => {
        const probe = await connection.createChannel();
        probe.on('error', () => undefined);
        await probe.checkQueue(`${queue}.dlq`);
        await probe.close();
      });
      await deadLetterOf(poisonId);
    });

    it('applies a message delivered twice within one batch once', async () => {
      const event = orderPlaced('customer-twice-in-batch');
      const other = orderPlaced('customer-twice-in-batch');
      publish(event);
      publish(other);
      publish(event);
      await eventually(async () => expect(await appliedOf([event, other])).toHaveLength(2));
      await eventually(async () => expect((await channel.checkQueue(queue)).messageCount).toBe(0));
      expect(await appliedOf([event])).toHaveLength(1);
      expect(await inboxHas(event.id)).toBe(1);
    });

    it('applies once a message published again after it was applied, batched with a new one', async () => {
      // What a relay that lost its confirms does: the copy is a first delivery, not a redelivery.
      const event = orderPlaced('customer-published-twice');
      publish(event);
      await eventually(async () => expect(await appliedOf([event])).toHaveLength(1));
      const other = orderPlaced('customer-published-twice');
      publish(event);
      publish(other);
      await eventually(async () => expect(await appliedOf([other])).toHaveLength(1));
      await eventually(async () => expect((await channel.checkQueue(queue)).messageCount).toBe(0));
      expect(await appliedOf([event, other])).toEqual([
        expect.objectContaining({ id: event.id, attempt: 1 }),
        expect.objectContaining({ id: other.id, attempt: 1 }),
      ]);
    });

    it('asks the database nothing outside its transaction for a batch of first deliveries', async () => {
      const outside: string[] = [];
      const stopObserving = database.database.observeStatements(({ label, text }) => {
        if (label === 'autocommit') outside.push(text);
      });
      try {
        const events = Array.from({ length: 3 }, () => orderPlaced('customer-first'));
        events.forEach((event) => publish(event));
        await eventually(async () => expect(await appliedOf(events)).toHaveLength(3));
        expect(outside).toEqual([]);
      } finally {
        stopObserving();
      }
    });

    it('takes a batch redelivered after a crash between its commit and its acks as a no-op', async () => {
      const events = Array.from({ length: 3 }, () => orderPlaced('customer-crash'));
      let crashes = 0;
      const stopListening = database.database.onCommit((tx) => {
        if (crashes > 0 || !tx.label.startsWith('consume')) return;
        crashes++;
        // The broker connection dies after the commit and before any ack: the broker puts the
        // whole batch back, and the consumer gets it again on its next connection.
        const current = consumerChannel().current as unknown as {
          connection: { stream: { destroy(error: Error): void } };
        };
        current.connection.stream.destroy(new Error('the consumer crashed'));
      });
      try {
        events.forEach((event) => publish(event));
        await eventually(async () => expect(await appliedOf(events)).toHaveLength(3));
        await eventually(async () => {
          const { messageCount, consumerCount } = await channel.checkQueue(queue);
          expect([messageCount, consumerCount]).toEqual([0, 1]);
        });
        expect(crashes).toBe(1);
        expect(await appliedOf(events)).toHaveLength(3);
      } finally {
        stopListening();
      }
    });

    it('applies each message of a batch once whatever statement loses the connection', async () => {
      const faults = await new ConnectionFaults(database.database).start();
      try {
        const label = 'consume order.placed';
        const batchOf = () => Array.from({ length: 3 }, () => orderPlaced('customer-faulted'));
        // Once this one is applied the consumer is idle, so the next three make one batch.
        const idle = orderPlaced('customer-idle');
        publish(idle);
        await eventually(async () => expect(await appliedOf([idle])).toHaveLength(1));
        const probe = batchOf();
        const statements = await faults.statementsOf({ label }, async () => {
          probe.forEach((event) => publish(event));
          await eventually(async () => expect(await appliedOf(probe)).toHaveLength(3));
        });
        expect(statements).toEqual([
          'BEGIN',
          ...probe.map(() => expect.stringContaining('INSERT INTO effects')),
          expect.stringContaining('INSERT INTO inbox'),
          'COMMIT',
        ]);
        for (const [index, text] of statements.entries()) {
          const events = batchOf();
          const broken = faults.breakBefore({ label, index });
          events.forEach((event) => publish(event));
          expect(await broken).toBe(text);
          await eventually(async () => expect(await appliedOf(events)).toHaveLength(3));
          for (const event of events) expect(await inboxHas(event.id)).toBe(1);
        }
      } finally {
        await faults.stop();
      }
    });
  });

  describe('npm run dlq', () => {
    const dlq = (...args: string[]) =>
      run(process.execPath, ['scripts/dlq.mjs', ...args], {
        cwd: ROOT,
        env: { ...process.env, RABBITMQ_URL: vhost.url },
      });

    /** An event its handler fails until it is fixed, dead-lettered after its attempts. */
    async function deadLettered() {
      fixed = false;
      const event = orderPlaced('fixed-later');
      publish(event);
      await deadLetterOf(event.id);
      return event;
    }

    it('lists dead letters with their reason and attempts', async () => {
      const event = await deadLettered();
      const listed = await dlq('list', queue);
      expect(listed.stdout).toContain(event.id);
      expect(listed.stdout).toMatch(
        new RegExp(`${event.id}[^]*reason: +handler-failed[^]*attempts: +3`),
      );
    });

    it('replays a dead letter, once fixed, to be applied once', async () => {
      const event = await deadLettered();
      fixed = true;
      const replayed = await dlq('replay', queue, '--id', event.id);
      expect(replayed.stdout).toContain('Replayed 1 of');

      await eventually(async () => expect(await effectsOf(event.id)).toHaveLength(1));
      expect((await peekDeadLetters()).map((m) => m.properties.messageId)).not.toContain(event.id);
      // Replaying again finds nothing of it to replay, and it stays applied once.
      await dlq('replay', queue, '--id', event.id);
      expect(await effectsOf(event.id)).toHaveLength(1);
    });

    it('purges only when confirmed', async () => {
      await expect(dlq('purge', queue)).rejects.toMatchObject({ code: 2 });
      expect((await peekDeadLetters()).length).toBeGreaterThan(0);
      const purged = await dlq('purge', queue, '--yes');
      expect(purged.stdout).toMatch(/Deleted \d+ dead letters/);
      expect(await peekDeadLetters()).toEqual([]);
    });
  });

  it('on shutdown finishes the messages in hand, and the next consumer takes the rest, once each', async () => {
    const events = Array.from({ length: 15 }, () => orderPlaced('slow'));
    events.forEach((event) => publish(event));
    await eventually(() => expect(slowStarted).toBeGreaterThan(0));

    await app.close();
    // Those in hand (up to the prefetch of 10) committed before the consumer let go.
    const applied = async () =>
      (await Promise.all(events.map(async (event) => (await effectsOf(event.id)).length))).reduce(
        (sum, count) => sum + count,
        0,
      );
    expect(await applied()).toBeGreaterThanOrEqual(1);
    expect(await applied()).toBeLessThan(15);

    app = await startConsumer();
    await eventually(async () => {
      for (const event of events) expect(await effectsOf(event.id)).toHaveLength(1);
    });
  });
});
