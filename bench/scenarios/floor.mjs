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

/**
 * The floor's database (with the project's schema) and queue, with a consumer on this thread.
 * `measure(tick)` runs the producers and the relay once: a warm-up, then the measuring window, and
 * returns `{ consumed, committed, backlog, batch }` (per second, rows, rows). `close()` removes
 * everything. The saga scenario measures the floor with it in each of its runs.
 */
export async function openFloor({ quick }) {
  const concurrency = 16;
  const batchSize = 1000;
  const warmupMs = quick ? 1000 : 2000;
  const windowMs = quick ? 4000 : 10_000;
  const { CreateEventStore1764300000000 } = await dist('event-store');
  // The outbox as the services have it (no NOTIFY trigger, the relay's indexes).
  const {
    CreateOutboxAndInbox1764300060000,
    DropOutboxNotifyTrigger1764400000000,
    SlimOutboxIndexes1764400010000,
  } = await dist('messaging');
  const pg = (await import('pg')).default;

  const database = await createDatabase('floor');
  let connection;
  let topology;
  let channel;
  let admin;
  const close = async () => {
    await admin?.end().catch(() => undefined);
    await channel?.close().catch(() => undefined);
    await topology?.remove();
    await connection?.bench_close();
    await database.drop();
  };
  try {
    await migrate(database.url, [
      CreateEventStore1764300000000,
      CreateOutboxAndInbox1764300060000,
      DropOutboxNotifyTrigger1764400000000,
      SlimOutboxIndexes1764400010000,
    ]);
    connection = await connectBroker(undefined, 'bench-floor-consumer');
    topology = await declareQueue(connection, 'floor');
    channel = await connection.createChannel();
    await channel.prefetch(1000);
    admin = new pg.Client({ connectionString: database.url });
    // Idle-session errors (the database dropped on Ctrl-C) surface as failed queries instead.
    admin.on('error', () => undefined);
    await admin.connect();
  } catch (error) {
    await close();
    throw error;
  }
  let consumed = 0;
  await channel.consume(topology.queue, (message) => {
    if (!message) return;
    consumed++;
    channel.ack(message);
  });

  async function measure(tick = () => undefined) {
    tick(0, 'starting');
    // Bumped by the producers after each commit, waited on by the relay when it is idle: the
    // in-process wake-up the services' relay gets.
    const commits = new SharedArrayBuffer(4);
    const producers = startWorker({
      role: 'producers',
      commits,
      databaseUrl: database.url,
      concurrency,
      exchange: topology.exchange,
    });
    const relay = startWorker({
      role: 'relay',
      commits,
      databaseUrl: database.url,
      amqpUrl: connection.bench_url,
      exchange: topology.exchange,
      batchSize,
    });
    let result;
    try {
      await Promise.all([producers.ready, relay.ready]);
      tick(0, 'warming up');
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
        tick(step / steps, 'measuring', `(${consumed.toLocaleString('en')} consumed)`);
      }
      const seconds = (performance.now() - start.t) / 1000;
      const { rows } = await admin.query(
        'SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL',
      );
      const batches = relay.batches - start.batches;
      result = {
        consumed: (consumed - start.consumed) / seconds,
        committed: (producers.count - start.committed) / seconds,
        backlog: rows[0].n,
        batch: batches ? (relay.count - start.published) / batches : 0,
      };
    } finally {
      await producers.stop();
      await relay.stop();
    }
    // The next measurement starts from an empty outbox and queue.
    await admin.query('UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL');
    await sleep(200);
    await channel.purgeQueue(topology.queue);
    return result;
  }

  return { concurrency, batchSize, warmupMs, windowMs, measure, close };
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
    'schema (its compiled migrations: the append-only trigger and the indexes); the producers wake the ' +
    'relay after each commit through a shared counter, as a service wakes its relay in-process. ' +
    'Figure: messages consumed per second over the measuring window, after a warm-up.',
  estimateSeconds: ({ quick, runs }) => runs * (quick ? 7 : 15) + 3,

  async run({ runs, quick, progress, note }) {
    progress(0, 'floor: creating the database and queue');
    const floor = await openFloor({ quick });
    const samples = { consumed: [], committed: [], backlog: [], batch: [] };
    try {
      for (let run = 0; run < runs; run++) {
        const label = `floor: run ${run + 1}/${runs}`;
        const result = await floor.measure((fraction, step, detail) =>
          progress((run + fraction) / runs, `${label}, ${step}`, detail),
        );
        for (const key of Object.keys(samples)) samples[key].push(result[key]);
      }
    } finally {
      await floor.close();
    }
    note(
      `Concurrency ${floor.concurrency} producers; relay batch ${floor.batchSize}; warm-up ${floor.warmupMs / 1000} s, ` +
        `measuring window ${floor.windowMs / 1000} s per run. Producers, relay and consumer run on three threads of one process.`,
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
  },
};
