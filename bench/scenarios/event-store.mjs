// The event store through the project's own compiled code: appends/s at several concurrencies
// (against pgbench running the same insert transaction in the same run), loading a 10,000-event
// aggregate with and without a snapshot, and rebuilding a projection from a large log.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import { createDatabase, dist, migrate } from '../lib/env.mjs';
import { Plan } from '../lib/plan.mjs';
import { cloudEvent, EVENT_TYPE, metadata, orderData, ROUTING_KEY } from '../lib/payloads.mjs';
import { closedLoop, median, now } from '../lib/stats.mjs';

const run = promisify(execFile);

const CONCURRENCIES = [1, 16, 64];
const STREAM_LENGTH = 10;
const AGGREGATE_EVENTS = 10_000;
const ITEM_ADDED = 'BenchItemAdded';
const SNAPSHOTS = { every: 100, shapeVersion: 1 };
const OUTBOX_EXCHANGE = 'bench.order.events';

/**
 * Events in the rebuilt log: the 1,000,000, in --quick mode too (about 9 s to insert and
 * 8 s per rebuild on the first machine). BENCH_REBUILD_EVENTS (a multiple of 10) overrides it.
 */
const rebuildSize = () => Number(process.env.BENCH_REBUILD_EVENTS) || 1_000_000;

/** The aggregate the load test folds: a few counters, evolved immutably like the project's. */
const cart = {
  initialState: { items: 0, quantity: 0, total: 0, lastSku: null },
  evolve: (state, event) => ({
    ...state,
    items: state.items + 1,
    quantity: state.quantity + event.data.quantity,
    total: state.total + event.data.quantity * event.data.unitPrice,
    lastSku: event.data.sku,
  }),
};

/** A simple rebuildable projection: events and quantity per stream, upserted a batch at a time. */
const streamTotals = {
  name: 'bench-stream-totals',
  eventTypes: [ITEM_ADDED],
  tables: ['bench_stream_totals'],
  async project(events, tx) {
    const totals = new Map();
    for (const event of events) {
      const entry = totals.get(event.streamId) ?? { events: 0, quantity: 0, last: 0n };
      entry.events++;
      entry.quantity += event.data.quantity;
      entry.last = event.globalPosition;
      totals.set(event.streamId, entry);
    }
    const ids = [...totals.keys()];
    const values = [...totals.values()];
    await tx.query(
      `INSERT INTO bench_stream_totals (stream_id, events, quantity, last_position)
       SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[])
       ON CONFLICT (stream_id) DO UPDATE SET events = bench_stream_totals.events + excluded.events,
         quantity = bench_stream_totals.quantity + excluded.quantity,
         last_position = excluded.last_position`,
      [
        ids,
        values.map((v) => v.events),
        values.map((v) => v.quantity),
        values.map((v) => v.last.toString()),
      ],
    );
  },
};

function pgbenchArgs(url, script, seconds) {
  const u = new URL(url);
  return {
    args: [
      '-n',
      '-c',
      '16',
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      script,
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username) || 'postgres',
      decodeURIComponent(u.pathname.slice(1)),
    ],
    env: { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) },
  };
}

async function pgbench(url, script, seconds) {
  const { args, env } = pgbenchArgs(url, script, seconds);
  const { stdout } = await run('pgbench', args, { env, timeout: (seconds + 30) * 1000 });
  const match =
    /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ??
    /tps = ([\d.]+)/.exec(stdout);
  if (!match) throw new Error(`cannot read pgbench's output:\n${stdout}`);
  const failed = /number of failed transactions: (\d+)/.exec(stdout);
  if (failed && Number(failed[1]) > 0)
    throw new Error(`pgbench had ${failed[1]} failed transactions`);
  return Number(match[1]);
}

/** SQL-quoted literal (the payloads have no quotes of their own, but be safe). */
const literal = (text) => `'${text.replaceAll("'", "''")}'`;

function pgbenchScripts() {
  const orderId = randomUUID();
  const messageId = randomUUID();
  const data = literal(JSON.stringify(orderData(orderId)));
  const meta = literal(JSON.stringify(metadata(messageId)));
  const payload = literal(JSON.stringify(cloudEvent(orderId, messageId)));
  const event = `INSERT INTO events (stream_id, stream_position, type, schema_version, data, metadata) VALUES ('order-pgb-' || :n, 1, '${EVENT_TYPE}', 1, ${data}, ${meta});`;
  const outbox = `INSERT INTO outbox (message_id, exchange, routing_key, aggregate_id, payload) VALUES (gen_random_uuid(), '${OUTBOX_EXCHANGE}', '${ROUTING_KEY}', 'order-pgb-' || :n, ${payload});`;
  const stream = `INSERT INTO event_streams (stream_id, version) VALUES ('order-pgb-' || :n, 1);`;
  const header = '\\set n random(1, 9000000000000000000)';
  return {
    // What the issue and TOOLCHAIN.md call "the same single-row insert transaction".
    eventAndOutbox: [header, 'BEGIN;', event, outbox, 'END;', ''].join('\n'),
    // The rows appendToStream really writes for a new stream: the stream head too.
    streamEventAndOutbox: [header, 'BEGIN;', stream, event, outbox, 'END;', ''].join('\n'),
  };
}

export default {
  name: 'event-store',
  title: 'Event store (EventStore from dist)',
  description:
    'Through the compiled `EventStore` (`dist/apps/order/libs/event-store/src/index.js`) on a TypeORM ' +
    'DataSource (pool of 64) with an `EventTypeRegistry`, on a throwaway database migrated with the ' +
    "project's event-store and outbox migrations. **Appends**: closed loop at concurrency 1, 16 and 64; " +
    'each append is `appendToStream` of one order-placed event (0.4 kB) with its outbox row, written by ' +
    "the append's own statement (an inline projection with `outboxWriteWithAppend`), as the order service " +
    'does; *new streams* ' +
    'appends at version 0 to a fresh stream each time, *10-event streams* appends ten single events per ' +
    'stream with expected versions 0..9. **pgbench** runs `BEGIN; INSERT event; INSERT outbox row; END` ' +
    '(the same rows and payloads, `-n -c 16 -j 2 -T 5`) in the same run; the ratio is appends/s of new ' +
    'streams at c16 over pgbench tps of that run (a second pgbench script also inserts the stream row, ' +
    'which `appendToStream` writes too). **Load**: `aggregateStream` of one 10,000-event stream, ' +
    'without snapshots and from a snapshot at version 10,000 (policy every 100); the median of many ' +
    'loads per run. **Rebuild**: `EventStore.rebuild` of a projection that upserts per-stream totals, ' +
    'over events bulk-inserted with SQL (10 per stream, in 50,000-event transactions) into a database of ' +
    'their own.',
  estimateSeconds: ({ quick, runs }) =>
    12 + rebuildSize() / 110_000 + runs * ((quick ? 35 : 51) + rebuildSize() / 110_000),

  async run({ runs, quick, progress, note }) {
    const appendMs = quick ? 2000 : 5000;
    const warmupMs = quick ? 300 : 1000;
    const pgbenchSeconds = 5;
    const rebuildEvents = rebuildSize();
    const rebuildWeight = rebuildEvents / 110_000; // seconds, about, on the first machine
    const loadsWithout = quick ? 15 : 40;
    const loadsWith = quick ? 200 : 500;

    const es = await dist('event-store');
    const messaging = await dist('messaging');
    const platform = await dist('platform');
    const { DataSource } = await import('typeorm');
    const registry = new es.EventTypeRegistry({
      [EVENT_TYPE]: { version: 1 },
      [ITEM_ADDED]: { version: 1 },
    });

    const perRun =
      (CONCURRENCIES.length * 2 * (appendMs + warmupMs)) / 1000 +
      3 * (pgbenchSeconds + 0.5) +
      (quick ? 3 : 8) +
      rebuildWeight;
    const plan = new Plan(progress, 15 + rebuildWeight + runs * perRun);
    const samples = {};
    const add = (id, value) => (samples[id] ??= []).push(value);

    const database = await createDatabase('event-store');
    const rebuildDatabase = await createDatabase('event-store', '_rebuild');
    const tmp = await mkdtemp(join(os.tmpdir(), 'bench-event-store-'));
    let dataSource;
    let rebuildSource;
    try {
      await plan.step(3, 'event-store: migrating the throwaway databases', async () => {
        await migrate(database.url, [
          es.CreateEventStore1764300000000,
          messaging.CreateOutboxAndInbox1764300060000,
          messaging.DropOutboxNotifyTrigger1764400000000,
          messaging.SlimOutboxIndexes1764400010000,
        ]);
        await migrate(rebuildDatabase.url, [es.CreateEventStore1764300000000]);
      });
      dataSource = new DataSource({
        type: 'postgres',
        url: database.url,
        applicationName: 'bench-event-store',
        extra: platform.poolSettings(database.url, 'bench-event-store', Math.max(...CONCURRENCIES)),
      });
      await dataSource.initialize();
      const storeDatabase = new platform.Database(dataSource);
      // The outbox row of each event, written by the append's own statement, as the order
      // service's integration events are.
      const outbox = {
        name: 'bench-outbox',
        eventTypes: [EVENT_TYPE],
        writeWithAppend: (events, tx) =>
          messaging.outboxWriteWithAppend(
            tx,
            events.map((event) => ({
              exchange: OUTBOX_EXCHANGE,
              event: cloudEvent(event.data.orderId, event.metadata.correlationId),
              streamId: event.streamId,
              streamPosition: event.streamPosition,
            })),
          ),
      };
      const store = new es.EventStore(storeDatabase, registry, [outbox]);

      const appendOne = (streamId, expectedVersion) => {
        const orderId = streamId.replace(/^order-/, '');
        return store.appendToStream(
          streamId,
          expectedVersion,
          [{ type: EVENT_TYPE, data: orderData(orderId) }],
          { metadata: metadata(randomUUID()) },
        );
      };
      const operations = {
        new: () => async () => {
          await appendOne(`order-${randomUUID()}`, 0);
        },
        ten: (concurrency) => {
          const streams = Array.from({ length: concurrency }, () => ({
            id: `order-${randomUUID()}`,
            version: 0,
          }));
          return async (worker) => {
            const stream = streams[worker];
            await appendOne(stream.id, stream.version);
            stream.version++;
            if (stream.version === STREAM_LENGTH)
              streams[worker] = { id: `order-${randomUUID()}`, version: 0 };
          };
        },
      };

      // The 10,000-event aggregate and its snapshot.
      const aggregateId = `cart-${randomUUID()}`;
      await plan.step(2, 'event-store: writing the 10,000-event aggregate', async () => {
        await dataSource.query('INSERT INTO event_streams (stream_id, version) VALUES ($1, $2)', [
          aggregateId,
          AGGREGATE_EVENTS,
        ]);
        await dataSource.query(
          `INSERT INTO events (stream_id, stream_position, type, schema_version, data, metadata)
           SELECT $1, g, $2, 1,
             jsonb_build_object('sku', 'SKU-' || (g % 50), 'quantity', 1 + g % 5, 'unitPrice', 100 + g % 900,
                                'addedAt', '2026-11-28T12:00:00.000Z'),
             $3::jsonb
           FROM generate_series(1, $4::int) g`,
          [aggregateId, ITEM_ADDED, JSON.stringify(metadata()), AGGREGATE_EVENTS],
        );
        const full = await es.aggregateStream(store, aggregateId, cart);
        if (full.version !== AGGREGATE_EVENTS)
          throw new Error(`aggregate at version ${full.version}`);
        await storeDatabase.transaction((tx) =>
          es.saveSnapshot(tx, aggregateId, SNAPSHOTS, { version: full.version, state: full.state }),
        );
        const fromSnapshot = await es.aggregateStream(store, aggregateId, cart, {
          snapshots: SNAPSHOTS,
        });
        if (
          fromSnapshot.version !== full.version ||
          !isDeepStrictEqual(fromSnapshot.state, full.state)
        ) {
          throw new Error('the snapshot does not give the same state as the full load');
        }
      });

      // The large log for the rebuild, in a database of its own.
      rebuildSource = new DataSource({
        type: 'postgres',
        url: rebuildDatabase.url,
        applicationName: 'bench-rebuild',
        extra: platform.poolSettings(rebuildDatabase.url, 'bench-rebuild', 2),
      });
      await rebuildSource.initialize();
      const rebuildStore = new es.EventStore(new platform.Database(rebuildSource), registry, [
        streamTotals,
      ]);
      await plan.step(
        rebuildWeight,
        `event-store: bulk-inserting ${rebuildEvents.toLocaleString('en')} events`,
        async (tick) => {
          await rebuildSource.query(
            `CREATE TABLE bench_stream_totals (stream_id text PRIMARY KEY, events int NOT NULL,
             quantity bigint NOT NULL, last_position bigint NOT NULL)`,
          );
          const chunk = 50_000;
          for (let from = 0; from < rebuildEvents; from += chunk) {
            const to = Math.min(rebuildEvents, from + chunk) - 1;
            await rebuildSource.query(
              `INSERT INTO events (stream_id, stream_position, type, schema_version, data, metadata)
             SELECT 'cart-' || (g / 10), (g % 10) + 1, $1, 1,
               jsonb_build_object('sku', 'SKU-' || (g % 50), 'quantity', 1 + g % 5, 'unitPrice', 100 + g % 900,
                                  'addedAt', '2026-11-28T12:00:00.000Z'),
               $2::jsonb
             FROM generate_series($3::int, $4::int) g`,
              [ITEM_ADDED, JSON.stringify(metadata()), from, to],
            );
            tick((to + 1) / rebuildEvents);
          }
          await rebuildSource.query('VACUUM ANALYZE events');
        },
      );

      const scripts = pgbenchScripts();
      const scriptFiles = {
        eventAndOutbox: join(tmp, 'event-and-outbox.sql'),
        streamEventAndOutbox: join(tmp, 'stream-event-and-outbox.sql'),
      };
      await writeFile(scriptFiles.eventAndOutbox, scripts.eventAndOutbox);
      await writeFile(scriptFiles.streamEventAndOutbox, scripts.streamEventAndOutbox);

      for (let r = 0; r < runs; r++) {
        const tag = `run ${r + 1}/${runs}`;
        for (const concurrency of CONCURRENCIES) {
          for (const mode of ['new', 'ten']) {
            const label = `event-store: appends c${concurrency} ${mode === 'new' ? 'new streams' : '10-event streams'} (${tag})`;
            await plan.step((appendMs + warmupMs) / 1000, label, async (tick) => {
              await closedLoop({
                concurrency,
                durationMs: warmupMs,
                operation: operations[mode](concurrency),
              });
              const result = await closedLoop({
                concurrency,
                durationMs: appendMs,
                operation: operations[mode](concurrency),
                onTick: tick,
              });
              add(`appends.${mode}.c${concurrency}`, result.perSecond);
            });
          }
        }
        const variants = [
          { key: 'eventAndOutbox', file: scriptFiles.eventAndOutbox, what: 'event + outbox' },
          {
            key: 'streamEventAndOutbox',
            file: scriptFiles.streamEventAndOutbox,
            what: 'stream + event + outbox',
          },
          // Diagnostic: the same transaction with the NOTIFY trigger the outbox had until
          // 2026-11-28 (put back by its migration's `down`, in this throwaway database only).
          {
            key: 'eventAndOutboxNotifyTrigger',
            file: scriptFiles.eventAndOutbox,
            what: 'event + outbox, old NOTIFY trigger',
            notifyTrigger: true,
          },
        ];
        for (const { key, file, what, notifyTrigger } of variants) {
          await plan.step(
            pgbenchSeconds + 0.5,
            `event-store: pgbench ${what}, c16 (${tag})`,
            async () => {
              const trigger = new messaging.DropOutboxNotifyTrigger1764400000000();
              const runner = dataSource.createQueryRunner();
              if (notifyTrigger) await trigger.down(runner);
              try {
                add(`pgbench.${key}`, await pgbench(database.url, file, pgbenchSeconds));
              } finally {
                if (notifyTrigger) await trigger.up(runner);
                await runner.release();
              }
            },
          );
        }
        const i = samples['pgbench.eventAndOutbox'].length - 1;
        add('ratio.new', samples['appends.new.c16'][i] / samples['pgbench.eventAndOutbox'][i]);
        add('ratio.ten', samples['appends.ten.c16'][i] / samples['pgbench.eventAndOutbox'][i]);
        add(
          'ratio.new.stream',
          samples['appends.new.c16'][i] / samples['pgbench.streamEventAndOutbox'][i],
        );

        await plan.step(
          quick ? 3 : 8,
          `event-store: loading the 10,000-event aggregate (${tag})`,
          async (tick) => {
            const time = async (options) => {
              const t = now();
              const loaded = await es.aggregateStream(store, aggregateId, cart, options);
              const ms = now() - t;
              if (loaded.version !== AGGREGATE_EVENTS)
                throw new Error(`loaded version ${loaded.version}`);
              return ms;
            };
            for (let w = 0; w < 3; w++) {
              await time({});
              await time({ snapshots: SNAPSHOTS });
            }
            const without = [];
            for (let k = 0; k < loadsWithout; k++) {
              without.push(await time({}));
              tick((k + 1) / (loadsWithout * 2));
            }
            const withSnapshot = [];
            for (let k = 0; k < loadsWith; k++)
              withSnapshot.push(await time({ snapshots: SNAPSHOTS }));
            add('load.without', median(without));
            add('load.with', median(withSnapshot));
          },
        );

        await plan.step(
          rebuildWeight,
          `event-store: rebuilding a projection from ${rebuildEvents.toLocaleString('en')} events (${tag})`,
          async () => {
            const t = now();
            const count = await rebuildStore.rebuild(streamTotals);
            const seconds = (now() - t) / 1000;
            if (count !== rebuildEvents)
              throw new Error(`rebuild read ${count} events, not ${rebuildEvents}`);
            const [{ streams, events }] = await rebuildSource.query(
              'SELECT count(*)::int AS streams, sum(events)::int AS events FROM bench_stream_totals',
            );
            if (events !== rebuildEvents || streams !== rebuildEvents / 10) {
              throw new Error(`the rebuilt projection has ${events} events in ${streams} streams`);
            }
            add('rebuild', count / seconds);
          },
        );
      }

      note(
        `Appends: ${appendMs / 1000} s closed loop per point after a ${warmupMs / 1000} s warm-up; TypeORM pool of ` +
          `${Math.max(...CONCURRENCIES)}. pgbench: \`pgbench -n -c 16 -j 2 -T ${pgbenchSeconds} -f <script>\` (simple ` +
          `protocol, the same payloads). Load: median of ${loadsWithout} loads without and ${loadsWith} from the ` +
          `snapshot per run. Rebuild: ${rebuildEvents.toLocaleString('en')} events` +
          (rebuildEvents !== 1_000_000
            ? ` (**not the 1,000,000 of the issue**: BENCH_REBUILD_EVENTS=${rebuildEvents})`
            : ' (the full 1,000,000 in --quick mode too)') +
          `, batch of 5,000 (the store's default), one REPEATABLE READ transaction.`,
      );
    } finally {
      await dataSource?.destroy().catch(() => undefined);
      await rebuildSource?.destroy().catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
      await rebuildDatabase.drop();
      await database.drop();
    }

    const figures = [];
    for (const mode of ['new', 'ten']) {
      for (const concurrency of CONCURRENCIES) {
        figures.push({
          id: `event-store.appends.${mode}.c${concurrency}`,
          label: `Event store: appends/s, ${mode === 'new' ? 'new streams' : '10-event streams'}, c${concurrency}`,
          unit: 'appends/s',
          samples: samples[`appends.${mode}.c${concurrency}`],
          chart: true,
        });
      }
    }
    figures.push(
      {
        id: 'event-store.pgbench',
        label: 'pgbench: event + outbox row transaction, 16 clients',
        unit: 'tx/s',
        samples: samples['pgbench.eventAndOutbox'],
        chart: true,
      },
      {
        id: 'event-store.pgbench-with-stream',
        label: 'pgbench: stream + event + outbox row transaction, 16 clients',
        unit: 'tx/s',
        samples: samples['pgbench.streamEventAndOutbox'],
        chart: true,
      },
      {
        id: 'event-store.pgbench-notify-trigger',
        label: 'pgbench: event + outbox row, with the old outbox NOTIFY trigger (diagnostic)',
        unit: 'tx/s',
        samples: samples['pgbench.eventAndOutboxNotifyTrigger'],
        chart: true,
      },
      {
        id: 'event-store.ratio',
        label: 'Event store appends/s c16 (new streams) ÷ pgbench',
        unit: '×',
        samples: samples['ratio.new'],
      },
      {
        id: 'event-store.ratio-10-event',
        label: 'Event store appends/s c16 (10-event streams) ÷ pgbench',
        unit: '×',
        samples: samples['ratio.ten'],
      },
      {
        id: 'event-store.ratio-with-stream',
        label: 'Event store appends/s c16 (new streams) ÷ pgbench with the stream row',
        unit: '×',
        samples: samples['ratio.new.stream'],
        // Issue 11: the same rows as the store writes (stream head, event, outbox row).
        target: { op: '>=', value: 0.9, text: '≥ 0.9 × pgbench' },
      },
      {
        id: 'event-store.load-without-snapshot',
        label: 'Load a 10,000-event aggregate, no snapshot',
        unit: 'ms',
        samples: samples['load.without'],
        better: 'lower',
      },
      {
        id: 'event-store.load-with-snapshot',
        label: 'Load a 10,000-event aggregate from its snapshot',
        unit: 'ms',
        samples: samples['load.with'],
        better: 'lower',
        target: { op: '<', value: 5, text: '< 5 ms' },
      },
      {
        id: 'event-store.rebuild',
        label: `Rebuild a projection from ${rebuildEvents.toLocaleString('en')} events`,
        unit: 'events/s',
        samples: samples.rebuild,
        chart: true,
      },
    );
    return figures;
  },
};
