// The outbox relay: rows published per second by the project's own OutboxRelay (compiled, in a
// Nest application context with TypeOrmModule + BrokerModule + MessagingModule, as a service runs
// it), against raw amqplib publishing the same messages with confirms and 1,000 in flight, in the
// same run.
import 'reflect-metadata';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  connectBroker,
  createDatabase,
  createVhost,
  declareQueue,
  dist,
  migrate,
  RABBITMQ_URL,
} from '../lib/env.mjs';
import { Plan } from '../lib/plan.mjs';
import { cloudEvent, publishProperties, ROUTING_KEY } from '../lib/payloads.mjs';
import { sleep } from '../lib/stats.mjs';

const IN_FLIGHT = 1000;
const RELAY_BATCH = 500; // OUTBOX_BATCH_SIZE's default

/** Raw amqplib: a confirm channel, a sliding window of `IN_FLIGHT` unconfirmed publishes. */
async function rawPublish(channel, exchange, messages) {
  let inFlight = 0;
  let failed;
  let release;
  const started = performance.now();
  for (const { id, body, event } of messages) {
    while (inFlight >= IN_FLIGHT) await new Promise((resolve) => (release = resolve));
    if (failed) throw failed;
    inFlight++;
    const ok = channel.publish(
      exchange,
      ROUTING_KEY,
      body,
      { ...publishProperties(id, event), mandatory: true },
      (error) => {
        if (error) failed = error;
        inFlight--;
        const wake = release;
        release = undefined;
        wake?.();
      },
    );
    if (!ok) await once(channel, 'drain');
  }
  while (inFlight > 0) await new Promise((resolve) => (release = resolve));
  if (failed) throw failed;
  return messages.length / ((performance.now() - started) / 1000);
}

export default {
  name: 'relay',
  title: 'Outbox relay (OutboxRelay from dist) vs raw amqplib',
  description:
    "The project's `OutboxRelay`, compiled, in a Nest application context " +
    '(`NestFactory.createApplicationContext` with `TypeOrmModule`, `BrokerModule` and `MessagingModule` ' +
    'from dist; batch size 500, the default), publishing to a throwaway RabbitMQ virtual host. Each run ' +
    'commits N CloudEvent rows (0.8 kB each, one aggregate per row) to the outbox in one transaction ' +
    '(then a NOTIFY after the commit wakes the relay, as a service that commits does) and times from that commit to the last row marked sent (both on the ' +
    'database clock: `max(sent_at)`). In the same run, raw `amqplib` publishes the same N messages ' +
    '(same bodies and properties, `mandatory`) on a confirm channel with a sliding window of 1,000 ' +
    'unconfirmed. Both go to a durable topic exchange bound to a durable quorum queue (no consumer; ' +
    'purged after each run). Ratio: relay rows/s ÷ raw messages/s of the same run.',
  estimateSeconds: ({ quick, runs }) => 12 + runs * (quick ? 6 : 12),

  async run({ runs, quick, progress, note }) {
    const rows = quick ? 20_000 : 50_000;
    const plan = new Plan(progress, 12 + runs * (quick ? 6 : 12));
    const samples = { relay: [], raw: [], ratio: [] };

    const {
      CreateOutboxAndInbox1764300060000,
      DropOutboxNotifyTrigger1764400000000,
      SlimOutboxIndexes1764400010000,
      MessagingModule,
    } = await dist('messaging');
    const { BrokerModule, DatabaseModule, poolSettings } = await dist('platform');
    const { Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const { TypeOrmModule } = await import('@nestjs/typeorm');
    const pg = (await import('pg')).default;

    const database = await createDatabase('relay');
    let vhost;
    let connection;
    let app;
    let admin;
    let topology;
    try {
      await plan.step(6, 'relay: database, virtual host, queue', async () => {
        await migrate(database.url, [
          CreateOutboxAndInbox1764300060000,
          DropOutboxNotifyTrigger1764400000000,
          SlimOutboxIndexes1764400010000,
        ]);
        vhost = await createVhost('relay');
        connection = await connectBroker(vhost?.url ?? RABBITMQ_URL, 'bench-relay-raw');
        topology = await declareQueue(connection, 'relay');
      });
      const channel = await connection.createConfirmChannel();
      let returned = 0;
      channel.on('return', () => returned++);
      admin = new pg.Client({
        connectionString: database.url,
        application_name: 'bench-relay-admin',
      });
      // Idle-session errors (the database dropped on Ctrl-C) surface as failed queries instead.
      admin.on('error', () => undefined);
      await admin.connect();

      const insertRows = async (count) => {
        // One row per aggregate, each a whole CloudEvent, built in SQL so the insert is fast.
        const template = cloudEvent('ORDER', 'ID');
        await admin.query('BEGIN');
        await admin.query(
          `INSERT INTO outbox (message_id, exchange, routing_key, aggregate_id, payload)
           SELECT s.id, $1, $2, s.order_id,
             jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set($3::jsonb,
               '{id}', to_jsonb(s.id::text)), '{subject}', to_jsonb(s.order_id)),
               '{correlationid}', to_jsonb(s.id::text)), '{causationid}', to_jsonb(s.id::text)),
               '{data,orderId}', to_jsonb(s.order_id))
           FROM (SELECT gen_random_uuid() AS id, gen_random_uuid()::text AS order_id
                 FROM generate_series(1, $4::int)) s`,
          [topology.exchange, ROUTING_KEY, JSON.stringify(template), count],
        );
        await admin.query('COMMIT');
        // What a service's relay does after a commit when another process leads the relay.
        await admin.query("SELECT pg_notify('outbox', '')");
        const {
          rows: [{ t }],
        } = await admin.query('SELECT clock_timestamp() AS t');
        return t;
      };
      // Watching must not steal the CPU it measures: a primary-key look-up of the last row (the
      // relay goes in id order) every 20 ms, a count of the rest only once a second.
      const waitUntilSent = async (tick, total) => {
        let counted = 0;
        for (;;) {
          const {
            rows: [{ done }],
          } = await admin.query(
            'SELECT sent_at IS NOT NULL AS done FROM outbox WHERE id = (SELECT max(id) FROM outbox)',
          );
          if (done) break;
          if (tick && performance.now() - counted > 1000) {
            counted = performance.now();
            const {
              rows: [{ n }],
            } = await admin.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL');
            tick((total - n) / total);
          }
          await sleep(20);
        }
        const {
          rows: [{ unsent }],
        } = await admin.query('SELECT count(*)::int AS unsent FROM outbox WHERE sent_at IS NULL');
        if (unsent > 0) throw new Error(`${unsent} rows left unsent after the last one was sent`);
        const {
          rows: [{ t }],
        } = await admin.query('SELECT max(sent_at) AS t FROM outbox');
        return t;
      };

      await plan.step(4, 'relay: starting the Nest application context', async () => {
        class BenchRelayModule {}
        Module({
          imports: [
            TypeOrmModule.forRoot({
              type: 'postgres',
              url: database.url,
              applicationName: 'bench-relay',
              extra: poolSettings(database.url, 'bench-relay', 4),
            }),
            DatabaseModule,
            BrokerModule.forRoot({
              urls: [vhost?.url ?? RABBITMQ_URL],
              connectionName: 'bench-relay',
              // The scenario declares its own exchange and queue.
              exchanges: [],
            }),
            MessagingModule.forRoot({
              relayBatchSize: RELAY_BATCH,
              relayPollIntervalMs: 1000,
              outboxRetentionHours: 24,
            }),
          ],
        })(BenchRelayModule);
        app = await NestFactory.createApplicationContext(BenchRelayModule, {
          logger: ['error', 'warn'],
          abortOnError: false,
        });
        // Warm-up: the relay connects, takes the leader lock and publishes a first batch.
        await insertRows(500);
        await waitUntilSent();
      });

      for (let r = 0; r < runs; r++) {
        const tag = `run ${r + 1}/${runs}`;
        const seconds = await plan.step(
          (quick ? 6 : 12) * 0.6,
          `relay: OutboxRelay publishing ${rows.toLocaleString('en')} rows (${tag})`,
          async (tick) => {
            const committed = await insertRows(rows);
            const sent = await waitUntilSent(tick, rows);
            return (sent.getTime() - committed.getTime()) / 1000;
          },
        );
        samples.relay.push(rows / seconds);
        await channel.purgeQueue(topology.queue);

        await plan.step(
          (quick ? 6 : 12) * 0.4,
          `relay: raw amqplib publishing ${rows.toLocaleString('en')} messages (${tag})`,
          async () => {
            const messages = Array.from({ length: rows }, () => {
              const id = randomUUID();
              const event = cloudEvent(randomUUID(), id);
              return { id, event, body: Buffer.from(JSON.stringify(event)) };
            });
            samples.raw.push(await rawPublish(channel, topology.exchange, messages));
            if (returned > 0) throw new Error(`${returned} raw publishes came back unroutable`);
          },
        );
        await channel.purgeQueue(topology.queue);
        samples.ratio.push(samples.relay.at(-1) / samples.raw.at(-1));
      }
      await channel.close();
      note(
        `${rows.toLocaleString('en')} rows/messages per run. The relay ran through Nest DI (not a reproduction). ` +
          (vhost
            ? `RabbitMQ virtual host ${vhost.name} (made with ${vhost.how}, deleted at the end), so nothing the scenario declares is left in the default vhost.`
            : 'No virtual host could be made (no management API, no rabbitmqctl): the default vhost was used (its exchange and queue are deleted at the end).'),
      );
    } finally {
      await app?.close().catch(() => undefined);
      await admin?.end().catch(() => undefined);
      await topology?.remove().catch(() => undefined);
      await connection?.bench_close();
      await vhost?.remove();
      await database.drop();
    }

    return [
      {
        id: 'relay.outbox-relay',
        label: 'OutboxRelay: outbox rows published/s',
        unit: 'rows/s',
        samples: samples.relay,
        chart: true,
      },
      {
        id: 'relay.raw-amqplib',
        label: 'Raw amqplib: confirmed publishes/s (1,000 in flight)',
        unit: 'msg/s',
        samples: samples.raw,
        chart: true,
      },
      {
        id: 'relay.ratio',
        label: 'OutboxRelay ÷ raw amqplib',
        unit: '×',
        samples: samples.ratio,
        target: { op: '>=', value: 0.7, text: '≥ 0.7 × raw amqplib' },
      },
    ];
  },
};
