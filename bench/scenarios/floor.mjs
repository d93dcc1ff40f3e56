// The floor: the bare pipeline with no framework, the reference the framework's figures are held
// against. Producers (16 connections, one thread) insert one event row and one outbox row per
// transaction with `pg`; a relay (another thread) selects unsent rows in batches, publishes them
// with `amqplib` on a confirm channel, waits for the confirms once per batch and marks them sent;
// a consumer (the main thread) acks every message from a durable quorum queue. Figure: messages
// consumed per second, sustained, measured after a warm-up.
import { Worker } from 'node:worker_threads';
import { connectBroker, createDatabase, declareQueue, dist, migrate } from '../lib/env.mjs';
import { sleep } from '../lib/stats.mjs';

const WORKER = new URL('../lib/floor-worker.mjs', import.meta.url);

function startWorker(data) {
  const counters = new SharedArrayBuffer(8);
  const worker = new Worker(WORKER, { workerData: { ...data, counters } });
  const count = new Int32Array(counters);
  let failure;
  const events = [];
  const waitFor = (what) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      events.push({ what, resolve, reject });
    });
  worker.on('message', (message) => {
    if (message?.error) failure = new Error(`${data.role} worker: ${message.error}`);
    for (const waiter of events.splice(0)) {
      if (failure) waiter.reject(failure);
      else if (message === waiter.what) waiter.resolve();
      else events.push(waiter);
    }
  });
  worker.on('error', (error) => {
    failure = error;
    for (const waiter of events.splice(0)) waiter.reject(error);
  });
  return {
    ready: waitFor('ready'),
    get count() {
      return Atomics.load(count, 0);
    },
    get batches() {
      return Atomics.load(count, 1);
    },
    check() {
      if (failure) throw failure;
    },
    async stop() {
      const stopped = waitFor('stopped');
      worker.postMessage('stop');
      await Promise.race([
        stopped,
        sleep(15_000).then(() => Promise.reject(new Error(`${data.role} worker did not stop`))),
      ]).finally(() => worker.terminate());
    },
  };
}

export default {
  name: 'floor',
  title: 'Floor: bare pg + amqplib pipeline',
  description:
    'N producers each commit `BEGIN; INSERT INTO events …; INSERT INTO outbox …; COMMIT` with `pg` ' +
    '(prepared statements, one connection each, in one worker thread); a relay thread selects unsent ' +
    'outbox rows in batches of 1,000, publishes them with `amqplib` on a confirm channel (persistent, ' +
    'all of a batch in flight, `waitForConfirms` per batch) and marks them sent; a consumer on the ' +
    "main thread acks each message from a durable quorum queue (prefetch 1,000). The project's real " +
    'schema (its compiled migrations: the append-only trigger, the outbox NOTIFY trigger and indexes). ' +
    'Figure: messages consumed per second over the measuring window, after a warm-up.',
  estimateSeconds: ({ quick, runs }) => runs * (quick ? 7 : 15) + 3,

  async run({ runs, quick, progress, note }) {
    const concurrency = 16;
    const batchSize = 1000;
    const warmupMs = quick ? 1000 : 2000;
    const windowMs = quick ? 4000 : 10_000;
    const { CreateEventStore1764300000000 } = await dist('event-store');
    const { CreateOutboxAndInbox1764300060000 } = await dist('messaging');

    progress(0, 'floor: creating the database and queue');
    const database = await createDatabase('floor');
    let connection;
    try {
      await migrate(database.url, [
        CreateEventStore1764300000000,
        CreateOutboxAndInbox1764300060000,
      ]);
      connection = await connectBroker(undefined, 'bench-floor-consumer');
      const topology = await declareQueue(connection, 'floor');
      try {
        const channel = await connection.createChannel();
        await channel.prefetch(1000);
        let consumed = 0;
        await channel.consume(topology.queue, (message) => {
          if (!message) return;
          consumed++;
          channel.ack(message);
        });

        const pg = (await import('pg')).default;
        const admin = new pg.Client({ connectionString: database.url });
        // Idle-session errors (the database dropped on Ctrl-C) surface as failed queries instead.
        admin.on('error', () => undefined);
        await admin.connect();
        const samples = { consumed: [], committed: [], backlog: [], batch: [] };
        try {
          for (let run = 0; run < runs; run++) {
            const label = `floor: run ${run + 1}/${runs}`;
            progress(run / runs, `${label}, starting`);
            const producers = startWorker({
              role: 'producers',
              databaseUrl: database.url,
              concurrency,
              exchange: topology.exchange,
            });
            const relay = startWorker({
              role: 'relay',
              databaseUrl: database.url,
              amqpUrl: connection.bench_url,
              exchange: topology.exchange,
              batchSize,
            });
            try {
              await Promise.all([producers.ready, relay.ready]);
              progress(run / runs, `${label}, warming up`);
              await sleep(warmupMs);
              producers.check();
              relay.check();
              const start = {
                t: performance.now(),
                consumed,
                committed: producers.count,
                batches: relay.batches,
                published: relay.count,
              };
              const steps = 20;
              for (let step = 1; step <= steps; step++) {
                await sleep(windowMs / steps);
                producers.check();
                relay.check();
                progress(
                  (run + step / steps) / runs,
                  `${label}, measuring`,
                  `(${consumed.toLocaleString('en')} consumed)`,
                );
              }
              const seconds = (performance.now() - start.t) / 1000;
              const { rows } = await admin.query(
                'SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL',
              );
              samples.consumed.push((consumed - start.consumed) / seconds);
              samples.committed.push((producers.count - start.committed) / seconds);
              samples.backlog.push(rows[0].n);
              const batches = relay.batches - start.batches;
              samples.batch.push(batches ? (relay.count - start.published) / batches : 0);
            } finally {
              await producers.stop();
              await relay.stop();
            }
            // Start the next run from an empty outbox and queue.
            await admin.query('UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL');
            await sleep(200);
            await channel.purgeQueue(topology.queue);
          }
        } finally {
          await admin.end();
          await channel.close().catch(() => undefined);
        }
        note(
          `Concurrency ${concurrency} producers; relay batch ${batchSize}; warm-up ${warmupMs / 1000} s, ` +
            `measuring window ${windowMs / 1000} s per run. Producers, relay and consumer run on three threads of one process.`,
        );
        return [
          {
            id: 'floor.consumed',
            label: 'Floor: messages consumed/s, end to end (c16)',
            unit: 'msg/s',
            samples: samples.consumed,
            chart: true,
          },
          {
            id: 'floor.committed',
            label: 'Floor: producer transactions/s (event + outbox row, c16)',
            unit: 'tx/s',
            samples: samples.committed,
            chart: true,
          },
          {
            id: 'floor.backlog',
            label: 'Floor: unsent outbox rows at the end of the window',
            unit: 'rows',
            samples: samples.backlog,
          },
          {
            id: 'floor.relay-batch',
            label: 'Floor: mean relay batch (rows per select/publish/mark)',
            unit: 'rows',
            samples: samples.batch,
          },
        ];
      } finally {
        await topology.remove();
      }
    } finally {
      await connection?.bench_close();
      await database.drop();
    }
  },
};
