// The saga end to end: the three built services as separate processes, orders placed over HTTP by
// many customers at fixed offered rates (open loop) and then as fast as a closed loop of customers
// gets them confirmed, each order's confirmation observed on the broker. The floor is measured in
// each run too, for the throughput ratio.
import { cpus } from 'node:os';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { databaseUrl, ROOT } from '../lib/env.mjs';
import { Plan } from '../lib/plan.mjs';
import { startOtlpSink } from '../lib/otlp-sink.mjs';
import { profileMarkdown, summarizeProfile } from '../lib/profile.mjs';
import { findProcesses, watchProcesses } from '../lib/proc.mjs';
import {
  closedLoopThroughSaga,
  openLoop,
  orderPlacer,
  orderStats,
  settledOrTimeout,
  startObserver,
} from '../lib/load.mjs';
import { median, now, sleep } from '../lib/stats.mjs';
import { SERVICES, startSystem, tokenFor } from '../lib/system.mjs';
import { openFloor } from './floor.mjs';

const RATES = [100, 250, 500, 750, 1000];
/**
 * Customers of the closed loops, each waiting for its order's confirmation before placing the
 * next: 16, the floor's producers, and 64, the maximum (issue 11 holds the saga to the floor
 * there: at least 0.30 × and 1,000 orders/s): a customer holds its order through three batched
 * transactional hops, so four times as many keep every hop busy where 16 leave the pace to the
 * saga's latency.
 */
const FLOOR_CONCURRENCY = 16;
const MAX_CONCURRENCY = 64;
const WARMUP_CUSTOMERS = 16;
const CUSTOMERS = 1000;
const SKUS = Array.from({ length: 50 }, (_, i) => `BENCH-SAGA-${String(i).padStart(2, '0')}`);
/** The most a product may hold (the inventory API's limit): far more than any run orders. */
const STOCK = 1_000_000_000;
/** The order service rejects an order unanswered for this long (ORDER_RESERVATION_TIMEOUT). */
const OUTCOME_TIMEOUT_MS = 30_000;
/**
 * An open loop gives up once this many orders await their outcome: at 1,000 orders/s with the
 * targets met, a hundred at most do. Beyond it the figures can only be misses, and the backlog would
 * take minutes to drain on a machine that manages far less than the offered rate.
 */
const MAX_OUTSTANDING = 500;
const QUEUES = ['inventory.order.events', 'order.inventory.events', 'notification.order.events'];

const timings = (quick) => ({
  warmupMs: quick ? 1000 : 2000,
  windowMs: quick ? 4000 : 10_000,
  systemWarmupMs: quick ? 3000 : 5000,
});
const phaseSeconds = (quick) => {
  const { warmupMs, windowMs } = timings(quick);
  return (warmupMs + windowMs) / 1000 + 1.5;
};
const floorSeconds = (quick) => (quick ? 7 : 14);
const setupSeconds = (quick) => 27 + timings(quick).systemWarmupMs / 1000;
const perRunSeconds = (quick) => (RATES.length + 2) * phaseSeconds(quick) + floorSeconds(quick);

async function stockProducts({ urls }, admin) {
  for (const [i, sku] of SKUS.entries()) {
    const response = await fetch(`${urls.inventory}/products/${sku}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `Bench ${sku}`,
        price: 500 + i,
        currency: 'EUR',
        available: STOCK,
      }),
    });
    if (response.status >= 300)
      throw new Error(`PUT /products/${sku}: ${response.status} ${await response.text()}`);
  }
  // Orders are priced from the order service's replica: wait until it has every product.
  const deadline = performance.now() + 30_000;
  for (;;) {
    const response = await fetch(`${urls.order}/catalogue`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const catalogue = response.ok ? await response.json() : [];
    const stocked = catalogue.filter((p) => SKUS.includes(p.sku) && p.available === STOCK);
    if (stocked.length === SKUS.length) return;
    if (performance.now() > deadline)
      throw new Error(`the catalogue replica has ${stocked.length}/${SKUS.length} products`);
    await sleep(200);
  }
}

/** Messages waiting in each consumer queue, and dead-lettered ones. */
async function queueDepths(connection) {
  const channel = await connection.createChannel();
  try {
    const depths = {};
    for (const queue of QUEUES) {
      depths[queue] = (await channel.checkQueue(queue)).messageCount;
      depths[`${queue}.dlq`] = (await channel.checkQueue(`${queue}.dlq`)).messageCount;
    }
    return depths;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Phases are `r<rate>` (open loop) and `c<customers>` (closed loop). */
const phaseName = (key) =>
  key.startsWith('r')
    ? `${Number(key.slice(1)).toLocaleString('en')}/s offered`
    : `closed loop, ${key.slice(1)} customers`;

const MS = { unit: 'ms', better: 'lower' };
const METRICS = {
  'post-p50': { what: 'POST /orders p50', ...MS },
  'post-p99': { what: 'POST /orders p99', ...MS },
  'confirm-p50': { what: 'placed → confirmed p50', ...MS },
  'confirm-p99': { what: 'placed → confirmed p99', ...MS },
  'confirm-max': { what: 'placed → confirmed max', ...MS },
  confirmed: { what: 'confirmed orders/s', unit: 'orders/s' },
  errors: {
    what: 'errors',
    unit: 'errors',
    better: 'lower',
    target: { op: '<', value: 1, text: '0' },
  },
};

/** A phase's figures: `metrics` of METRICS, with `extras[metric]` (a target, say) added. */
function phaseFigures(samples, key, metrics, extras = {}) {
  return metrics.map((metric) => {
    const { what, ...rest } = METRICS[metric];
    return {
      id: `saga.${key}.${metric}`,
      label: `Saga, ${phaseName(key)}: ${what}`,
      ...rest,
      ...extras[metric],
      samples: samples[`${key}.${metric}`] ?? [],
    };
  });
}

const atMost = (value) => ({ target: { op: '<=', value, text: `≤ ${value} ms` } });

const describeErrors = (stats) =>
  Object.entries(stats.errors)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ') + (stats.firstErrors.length ? ` (${stats.firstErrors.join('; ')})` : '');

export default {
  name: 'saga',
  title: 'Saga: orders placed over HTTP to order.confirmed, across the three services',
  description:
    'The three built services (`dist/apps/*/main.js`, `LOG_LEVEL=warn`, otherwise their defaults) ' +
    'as separate processes, each with a throwaway database, in a throwaway RabbitMQ virtual host, ' +
    'started once for all runs. 50 products hold 1,000,000,000 units each (never running out); each ' +
    'order is one unit of a random one, placed with `POST /orders` (keep-alive `node:http`, a fresh ' +
    '`Idempotency-Key` each) by 1,000 customers in turn. A consumer of its own on `order.events` ' +
    '(`order.confirmed`, `order.rejected`, no acks) observes each outcome. **Latencies** run from the ' +
    "instant the order was due to be sent (open loop) or was sent (closed loop) to the POST's " +
    "answer, and to the arrival of the order's `order.confirmed` at that consumer: placed → confirmed " +
    'includes the POST. **Open loop** at 100, 250, 500, 750 and 1,000 orders/s on a timer that never waits ' +
    'for answers, a warm-up then a window; percentiles over the orders due in the window; it gives ' +
    'up (the orders left unsent count as errors) once 500 orders await their outcome. **Closed ' +
    'loops** of 16 and 64 customers, each placing an order, waiting for its confirmation, placing the ' +
    'next. *Confirmed/s*: `order.confirmed` arrivals per second over the window (for an open loop ' +
    'that gave up, until its backlog was done). The floor (16 producers) is measured in each run, ' +
    'services idle; ratios are per run. **Errors**: POSTs not answered 202 within 10 s, rejected ' +
    'orders, orders unconfirmed 30 s after their phase, and unsent ones, over the whole phase. CPU ' +
    '(% of one core) and peak RSS per service from `/proc`, over the window.',
  estimateSeconds: ({ quick, runs }) => setupSeconds(quick) + runs * perRunSeconds(quick),

  async run({ runs, quick, profile, tracing, progress, note, log }) {
    // Settings to try on the services, e.g. BENCH_SERVICE_ENV="CONSUMER_LINGER_MS=2"; the report
    // says which were given.
    const serviceEnv = Object.fromEntries(
      (process.env.BENCH_SERVICE_ENV ?? '')
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    if (Object.keys(serviceEnv).length > 0) {
      note(
        `Services ran with ${Object.entries(serviceEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}.`,
      );
    }
    const sink = tracing ? await startOtlpSink() : undefined;
    if (sink) {
      serviceEnv.OTEL_EXPORTER_OTLP_ENDPOINT = sink.url;
      serviceEnv.OTEL_BSP_SCHEDULE_DELAY ??= '1000';
    }
    const { warmupMs, windowMs, systemWarmupMs } = timings(quick);
    const plan = new Plan(progress, setupSeconds(quick) + runs * perRunSeconds(quick));
    const admin = tokenFor('bench-ops', { admin: true });
    const tokens = Array.from({ length: CUSTOMERS }, (_, i) =>
      tokenFor(`bench-customer-${String(i).padStart(4, '0')}`),
    );
    const samples = {};
    const add = (key, value) => (samples[key] ??= []).push(value);
    const usages = {};
    const depthsSeen = {};
    const gaveUp = {};

    // The profiles are written when the services exit; too big for the repository (gitignored).
    const profileDirectory = profile
      ? join(ROOT, 'bench/results/profiles', new Date().toISOString().replace(/[:.]/g, '-'))
      : undefined;
    let system;
    let observer;
    let floor;
    const pg = (await import('pg')).default;
    const pgAdmin = new pg.Client({ connectionString: databaseUrl('postgres') });
    // Idle-session errors (Ctrl-C) surface as failed queries instead.
    pgAdmin.on('error', () => undefined);
    await pgAdmin.connect();
    try {
      await plan.step(15, 'saga: starting the three services', async () => {
        if (profileDirectory) await mkdir(profileDirectory, { recursive: true });
        system = await startSystem('saga', {
          env: serviceEnv,
          nodeArgs: profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : [],
        });
        observer = await startObserver(system.vhost.url);
      });
      await plan.step(5, 'saga: stocking 50 products', () => stockProducts(system, admin));
      await plan.step(5, 'saga: the floor database and queue', async () => {
        floor = await openFloor({ quick });
      });

      // Where the CPU goes besides the services: the PostgreSQL backends serving their databases
      // (looked up each time: pools open connections lazily), and the whole RabbitMQ node.
      const processSets = async () => {
        const { rows } = await pgAdmin.query(
          'SELECT pid FROM pg_stat_activity WHERE datname = ANY($1)',
          [Object.values(system.databases)],
        );
        return {
          ...Object.fromEntries(SERVICES.map((name) => [name, [system.pids[name]]])),
          postgres: rows.map((r) => r.pid),
          rabbitmq: findProcesses('beam.smp'),
        };
      };

      /**
       * One phase: `drive(place, placer)` places orders and returns the loop's `{ start, end }`
       * (and `stoppedAt`, `unsent` when an open loop gave up). After the warm-up, the window: CPU and
       * RSS, then the queues' backlog when it ends, then (bounded) every order's outcome.
       */
      const phase = async (key, drive) => {
        // A fresh agent each time: keep-alive sockets idle since the last phase may be closing.
        const placer = orderPlacer(system.urls.order, { observer, tokens, skus: SKUS });
        const records = [];
        const place = (at) => {
          const record = placer.place(at);
          records.push(record);
          return record;
        };
        const sets = await processSets();
        const fromStart = watchProcesses(sets);
        let fromWindow;
        const timer = setTimeout(() => (fromWindow = watchProcesses(sets)), warmupMs);
        let loop;
        try {
          loop = await drive(place, placer);
        } finally {
          clearTimeout(timer);
        }
        // An open loop that gave up left the system working at full tilt until its backlog was
        // done: that is the window, for CPU and confirmed/s.
        const watch = fromWindow ?? fromStart;
        let usage = loop.stoppedAt === undefined ? watch.stop() : undefined;
        const depths = await queueDepths(observer.connection);
        await settledOrTimeout(records, OUTCOME_TIMEOUT_MS);
        const settledAt = now();
        usage ??= watch.stop();
        fromStart.stop();
        placer.close();
        system.check();
        // An open loop that gave up during the warm-up: what it sent is all there is to measure.
        const window = {
          start: loop.start + warmupMs < loop.end ? loop.start + warmupMs : loop.start,
          end: loop.stoppedAt === undefined ? loop.end : settledAt,
        };
        const measured = orderStats(
          records.filter((r) => r.scheduledAt >= window.start),
          { at: settledAt },
        );
        const all = orderStats(records, { unsent: loop.unsent ?? 0, at: settledAt });
        if (all.errorCount > 0) log(`saga ${key}: ${describeErrors(all)}`);
        const seconds = (window.end - window.start) / 1000;
        add(`${key}.post-p50`, measured.postP50);
        add(`${key}.post-p99`, measured.postP99);
        add(`${key}.confirm-p50`, measured.confirmP50);
        add(`${key}.confirm-p99`, measured.confirmP99);
        add(`${key}.confirm-max`, measured.confirmMax);
        add(`${key}.confirmed`, observer.confirmedBetween(window.start, window.end) / seconds);
        add(`${key}.errors`, all.errorCount);
        (usages[key] ??= []).push(usage);
        depthsSeen[key] = depths;
      };

      await plan.step(systemWarmupMs / 1000 + 2, 'saga: warming the system up', async (tick) => {
        // A closed loop: it warms up at whatever rate this machine manages, never overloading it.
        const placer = orderPlacer(system.urls.order, { observer, tokens, skus: SKUS });
        const records = [];
        await closedLoopThroughSaga({
          concurrency: WARMUP_CUSTOMERS,
          durationMs: systemWarmupMs,
          place: (at) => records[records.push(placer.place(at)) - 1],
          outcomeTimeoutMs: OUTCOME_TIMEOUT_MS,
          onTick: tick,
        });
        await settledOrTimeout(records, OUTCOME_TIMEOUT_MS);
        placer.close();
        const stats = orderStats(records);
        if (stats.errorCount > 0)
          throw new Error(`warm-up orders failed: ${describeErrors(stats)}`);
      });

      const phaseWeight = phaseSeconds(quick);
      for (let run = 0; run < runs; run++) {
        const tag = `run ${run + 1}/${runs}`;
        for (const rate of RATES) {
          await plan.step(phaseWeight, `saga: ${rate} orders/s offered (${tag})`, (tick) =>
            phase(`r${rate}`, async (place, placer) => {
              const loop = await openLoop({
                rate,
                durationMs: warmupMs + windowMs,
                fire: place,
                onTick: tick,
                stopWhen: () => placer.outstanding > MAX_OUTSTANDING,
              });
              if (loop.stoppedAt !== undefined) {
                const after = `${((loop.stoppedAt - loop.start) / 1000).toFixed(1)} s`;
                (gaveUp[rate] ??= []).push(after);
                log(
                  `saga ${rate}/s (${tag}): more than ${MAX_OUTSTANDING} orders awaiting their ` +
                    `outcome after ${after}; the ${loop.total - loop.sent} orders left were not sent`,
                );
              }
              if (loop.maxLagMs > 50)
                log(
                  `saga ${rate}/s: the generator's timer ran up to ${Math.round(loop.maxLagMs)} ms late`,
                );
              return { ...loop, unsent: loop.total - loop.sent };
            }),
          );
        }

        for (const customers of [FLOOR_CONCURRENCY, MAX_CONCURRENCY]) {
          const key = `c${customers}`;
          await plan.step(phaseWeight, `saga: ${phaseName(key)} (${tag})`, (tick) =>
            phase(key, (place) =>
              closedLoopThroughSaga({
                concurrency: customers,
                durationMs: warmupMs + windowMs,
                place,
                outcomeTimeoutMs: OUTCOME_TIMEOUT_MS,
                onTick: tick,
              }),
            ),
          );
        }

        await plan.step(
          floorSeconds(quick),
          `saga: the floor, 16 producers (${tag})`,
          async (tick) => {
            const result = await floor.measure((fraction, step, detail) =>
              tick(fraction, detail ? `${step} ${detail}` : step),
            );
            add('floor', result.consumed);
            for (const customers of [FLOOR_CONCURRENCY, MAX_CONCURRENCY])
              add(
                `c${customers}.ratio`,
                samples[`c${customers}.confirmed`].at(-1) / result.consumed,
              );
          },
        );
      }

      const depths = await queueDepths(observer.connection);
      const deadLettered = Object.entries(depths).filter(([q, n]) => q.endsWith('.dlq') && n > 0);
      const products = await (await fetch(`${system.urls.inventory}/products`)).json();
      const reserved = products
        .filter((p) => SKUS.includes(p.sku))
        .reduce((sum, p) => sum + p.reserved, 0);
      note(
        `Open loop: warm-up ${warmupMs / 1000} s, window ${windowMs / 1000} s per rate; closed loop: ` +
          `${FLOOR_CONCURRENCY} and ${MAX_CONCURRENCY} customers, same warm-up and window. Before the first run, ` +
          `${systemWarmupMs / 1000} s of a closed loop of ${WARMUP_CUSTOMERS} customers warm the system up (not ` +
          `measured). Services started once, for all runs. In all: ${reserved.toLocaleString('en')} units reserved, ` +
          `${observer.confirmed.toLocaleString('en')} orders confirmed, ${observer.rejected} rejected, ` +
          `${observer.duplicates} duplicate outcome messages; ` +
          (deadLettered.length
            ? `dead-lettered: ${deadLettered.map(([q, n]) => `${q} ${n}`).join(', ')}.`
            : 'nothing dead-lettered.'),
      );
      const names = {
        self: 'load generator',
        postgres: 'PostgreSQL backends',
        rabbitmq: 'RabbitMQ',
      };
      const cpuLine = (list) =>
        [...SERVICES, 'postgres', 'rabbitmq', 'self']
          .map(
            (name) => `${names[name] ?? name} ${Math.round(median(list.map((u) => u[name].cpu)))}`,
          )
          .join(', ') +
        `; whole machine ${Math.round(median(list.map((u) => u.machine.cpu)))} % busy`;
      note(
        `CPU over the window, % of one core (median of the runs): ${Object.entries(usages)
          .map(([key, list]) => `**${phaseName(key)}**: ${cpuLine(list)}`)
          .join('; ')}. PostgreSQL counts the backends serving the three databases (not its WAL ` +
          'writer or checkpointer); RabbitMQ is the whole node (with anything else using it); the ' +
          'whole machine is the busy share of all its cores, whoever used them.',
      );
      if (Object.keys(gaveUp).length)
        note(
          `The open loop gave up (more than ${MAX_OUTSTANDING} orders awaiting their outcome) at ` +
            Object.entries(gaveUp)
              .map(([rate, afters]) => `${phaseName(`r${rate}`)} after ${afters.join(', ')}`)
              .join('; ') +
            ': the orders it did not send count as errors, and confirmed/s is over the time the ' +
            'system took to work off the backlog.',
        );
      note(
        `Messages waiting at the end of each window (last run): ${Object.entries(depthsSeen)
          .map(([key, d]) => `${phaseName(key)}: ${QUEUES.map((q) => `${q} ${d[q]}`).join(', ')}`)
          .join('; ')}.`,
      );
    } finally {
      await pgAdmin.end().catch(() => undefined);
      await observer?.close();
      await system?.stop();
      await floor?.close();
      await sink?.close();
    }
    if (sink) {
      note(
        `Services traced every order, exporting over OTLP/HTTP to a sink that discarded it: ` +
          `${sink.received.exports} exports, ${(sink.received.bytes / 1e6).toFixed(1)} MB.`,
      );
    }
    const maxKey = `c${MAX_CONCURRENCY}`;
    if (profileDirectory) {
      // Only the samples of the windows the targets are about (the busiest closed loop's), so
      // that start-up, warm-up and the open loops do not blur what an order costs.
      const windows = (usages[maxKey] ?? []).map((usage) => usage.window);
      const confirmed = windows.reduce(
        (sum, window, run) => sum + (samples[`${maxKey}.confirmed`]?.[run] ?? 0) * window.seconds,
        0,
      );
      const files = await readdir(profileDirectory);
      const lines = [];
      for (const service of SERVICES) {
        const file = files.find((name) => name.includes(`.${system.pids[service]}.`));
        if (!file) continue;
        const summary = await summarizeProfile(join(profileDirectory, file), { windows });
        lines.push(
          ...profileMarkdown(`${service} (${file})`, summary, {
            count: Math.round(confirmed),
            name: 'confirmed order',
          }),
        );
      }
      note(
        `CPU profiles of the services (\`--profile\`) over the windows of the ` +
          `${phaseName(maxKey)} (${windows.length} of them; start-up and the other phases left ` +
          `out). Beside each area, its sampled milliseconds per confirmed order: time the main ` +
          `thread was not idle, including time it was preempted inside a system call (\`writev\` ` +
          `wakes a PostgreSQL backend, which may take the core), so these add up to more than ` +
          `the CPU per order that /proc gives. In \`${profileDirectory.slice(ROOT.length + 1)}/\`: ${lines.join(' ')}`,
      );
    }

    const all = ['post-p50', 'post-p99', 'confirm-p50', 'confirm-p99', 'confirm-max', 'confirmed'];
    const figures = [
      ...RATES.flatMap((rate) =>
        phaseFigures(
          samples,
          `r${rate}`,
          [...all, 'errors'],
          rate === 500 ? { 'post-p99': atMost(25), 'confirm-p99': atMost(100) } : {},
        ),
      ),
      {
        id: 'saga.floor',
        label: 'Floor in the same runs: messages consumed/s (16 producers)',
        unit: 'msg/s',
        samples: samples.floor ?? [],
      },
    ];
    const closedLoop = ['confirmed', 'post-p99', 'confirm-p50', 'confirm-p99', 'errors'];
    const floorKey = `c${FLOOR_CONCURRENCY}`;
    const ratio = (key, target) => ({
      id: `saga.${key}.ratio`,
      label: `Saga, ${phaseName(key)}: confirmed/s ÷ floor`,
      unit: '×',
      samples: samples[`${key}.ratio`] ?? [],
      ...(target ? { target: { op: '>=', value: 0.3, text: '≥ 0.30 × floor' } } : {}),
    });
    figures.push(
      ...phaseFigures(samples, floorKey, closedLoop),
      ratio(floorKey, false),
      ...phaseFigures(samples, maxKey, closedLoop, {
        confirmed: { chart: true, target: { op: '>=', value: 1000, text: '≥ 1,000/s' } },
      }),
      ratio(maxKey, true),
    );
    // What a confirmed order costs each component: its CPU over the window per order confirmed
    // in it (% of a core × 10 ÷ orders/s = ms per order), run by run.
    const confirmedPerRun = samples[`${maxKey}.confirmed`] ?? [];
    for (const name of [...SERVICES, 'postgres', 'rabbitmq', 'self', 'machine'])
      figures.push({
        id: `saga.${maxKey}.cpu-per-order.${name}`,
        label: `Saga, ${phaseName(maxKey)}: CPU per confirmed order, ${
          {
            self: 'load generator',
            postgres: 'PostgreSQL backends',
            rabbitmq: 'RabbitMQ',
            machine: 'whole machine',
          }[name] ?? `${name} service`
        }`,
        unit: 'ms',
        better: 'lower',
        samples: (usages[maxKey] ?? []).map((u, run) =>
          // The whole machine's figure is a share of all its cores: in % of one core, times cores.
          confirmedPerRun[run]
            ? ((name === 'machine' ? u.machine.cpu * cpus().length : u[name].cpu) * 10) /
              confirmedPerRun[run]
            : NaN,
        ),
      });
    for (const name of [...SERVICES, 'self'])
      figures.push({
        id: `saga.${maxKey}.cpu.${name}`,
        label: `Saga, ${phaseName(maxKey)}: CPU, ${name === 'self' ? 'load generator' : `${name} service`}`,
        unit: '% of a core',
        better: 'lower',
        samples: (usages[maxKey] ?? []).map((u) => u[name].cpu),
      });
    for (const name of SERVICES)
      figures.push({
        id: `saga.${maxKey}.rss.${name}`,
        label: `Saga, ${phaseName(maxKey)}: peak RSS, ${name} service`,
        unit: 'MB',
        better: 'lower',
        samples: (usages[maxKey] ?? []).map((u) => u[name].rss),
        target: { op: '<', value: 250, text: '< 250 MB' },
      });

    const series = (name, metric, dashed) => ({
      name,
      dashed,
      points: RATES.map((rate) => [rate, `saga.r${rate}.${metric}`]),
    });
    return {
      figures,
      charts: [
        {
          id: 'latency',
          title: 'Saga latency against offered load (median of the runs)',
          xLabel: 'offered orders/s',
          yLabel: 'ms',
          logX: true,
          logY: true,
          series: [
            series('placed → confirmed p99', 'confirm-p99'),
            series('placed → confirmed p50', 'confirm-p50'),
            series('POST /orders p99', 'post-p99', true),
            series('POST /orders p50', 'post-p50', true),
          ],
        },
      ],
    };
  },
};
