// Load for the saga scenario: orders placed over HTTP (node:http with a keep-alive agent, lighter
// on CPU than fetch, which matters when the generator shares two cores with the system), their
// outcomes observed on the broker, and open- and closed-loop drivers.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { connectBroker } from './env.mjs';
import { now, percentile, sleep } from './stats.mjs';

const ORDER_EXCHANGE = 'order.events';
const CONFIRMED = 'order.confirmed';
const REJECTED = 'order.rejected';

/**
 * Places orders on the order API. Each order is a record: `scheduledAt` (when it was meant to be
 * sent: latencies count from there), `answeredAt`, `status`, `orderId`, then `outcome`
 * (`order.confirmed`, `order.rejected`) and `outcomeAt` from the observer; `settled` resolves
 * when the order has failed or has an outcome.
 */
export function orderPlacer(baseUrl, { observer, tokens, skus, maxSockets = 512 }) {
  const { hostname, port } = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  let next = 0;
  let outstanding = 0;

  function place(scheduledAt) {
    const record = { scheduledAt, orderId: undefined, outcome: undefined };
    outstanding++;
    record.settled = new Promise((resolve) => {
      record.settle = () => {
        outstanding--;
        record.settle = () => undefined;
        resolve();
      };
    });
    const token = tokens[next++ % tokens.length];
    const sku = skus[Math.floor(Math.random() * skus.length)];
    const body = JSON.stringify({ items: [{ sku, quantity: 1 }] });
    const fail = (error) => {
      if (record.answeredAt !== undefined) return;
      record.answeredAt = now();
      record.error = error;
      record.settle();
    };
    const request = http.request(
      {
        agent,
        hostname,
        port,
        path: '/orders',
        method: 'POST',
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          // What a client that retries safely sends; the order service stores it per customer.
          'idempotency-key': randomUUID(),
        },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', (error) => fail(error.message));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode !== 202)
            return fail(`POST /orders ${response.statusCode} ${text.slice(0, 200)}`);
          let orderId;
          try {
            orderId = JSON.parse(text).orderId;
          } catch {
            /* no order id: failed below */
          }
          if (typeof orderId !== 'string')
            return fail(`POST /orders 202 without an orderId: ${text}`);
          record.answeredAt = now();
          record.status = response.statusCode;
          record.orderId = orderId;
          observer.track(record);
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (error) => fail(error.message));
    request.end(body);
    return record;
  }

  return {
    place,
    /** Orders placed that have neither failed nor got their outcome yet. */
    get outstanding() {
      return outstanding;
    },
    close: () => agent.destroy(),
  };
}

/**
 * A consumer of its own (exclusive, auto-delete, no acks) bound to `order.events` for
 * `order.confirmed` and `order.rejected`: the instant each arrives here is the order's outcome.
 * An outcome may arrive before the POST's answer has been read; it waits until the order is known.
 */
export async function startObserver(amqpUrl) {
  const connection = await connectBroker(amqpUrl, 'bench-saga-observer');
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, ORDER_EXCHANGE, CONFIRMED);
  await channel.bindQueue(queue, ORDER_EXCHANGE, REJECTED);
  const waiting = new Map();
  const early = new Map();
  const seen = new Set();
  const confirmedAt = [];
  const observer = {
    connection,
    get confirmed() {
      return confirmedAt.length;
    },
    rejected: 0,
    duplicates: 0,
    track(record) {
      const outcome = early.get(record.orderId);
      if (outcome) {
        early.delete(record.orderId);
        settle(record, outcome);
      } else waiting.set(record.orderId, record);
    },
    /** Confirmations that arrived in [from, to). */
    confirmedBetween(from, to) {
      return confirmedAt.filter((t) => t >= from && t < to).length;
    },
    close: () => connection.bench_close(),
  };
  function settle(record, { type, at }) {
    record.outcome = type;
    record.outcomeAt = at;
    record.settle();
  }
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const at = now();
      const type = message.fields.routingKey;
      const { orderId } = JSON.parse(message.content.toString()).data;
      // Delivery is at least once: an order's second outcome message is a duplicate.
      if (seen.has(orderId)) return void observer.duplicates++;
      seen.add(orderId);
      if (type === CONFIRMED) confirmedAt.push(at);
      else observer.rejected++;
      const record = waiting.get(orderId);
      if (!record) return void early.set(orderId, { type, at });
      waiting.delete(orderId);
      settle(record, { type, at });
    },
    { noAck: true },
  );
  return observer;
}

/**
 * Open loop: calls `fire(scheduledAt)` at `rate` per second for `durationMs`, on a timer that
 * never waits for answers; a request due while the timer was late is sent at once, still
 * stamped with the time it was due, so a stalled generator or server shows in the latencies.
 * Stops early, at `stoppedAt`, once `stopWhen()` is true. Returns the start, the end, the requests
 * sent out of the total, and how late the timer ran at worst.
 */
export async function openLoop({ rate, durationMs, fire, onTick, stopWhen = () => false }) {
  const interval = 1000 / rate;
  const total = Math.round((durationMs * rate) / 1000);
  const start = now();
  let sent = 0;
  let maxLagMs = 0;
  while (sent < total) {
    const t = now();
    if (stopWhen()) return { start, end: t, stoppedAt: t, sent, total, maxLagMs };
    const due = Math.min(total, Math.floor((t - start) / interval) + 1);
    if (sent < due) maxLagMs = Math.max(maxLagMs, t - (start + sent * interval));
    for (; sent < due; sent++) fire(start + sent * interval);
    onTick?.(sent / total);
    if (sent < total) await sleep(Math.max(0, start + sent * interval - now()));
  }
  return { start, end: start + total * interval, sent, total, maxLagMs };
}

/**
 * Closed loop through the whole saga: `concurrency` customers each place an order, wait for its
 * outcome (at most `outcomeTimeoutMs`), then place the next, until `durationMs` has passed.
 */
export async function closedLoopThroughSaga({
  concurrency,
  durationMs,
  place,
  outcomeTimeoutMs,
  onTick,
}) {
  const start = now();
  const deadline = start + durationMs;
  const tick = onTick
    ? setInterval(() => onTick(Math.min(1, (now() - start) / durationMs)), 200)
    : undefined;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (now() < deadline) {
          const record = place(now());
          let timer;
          await Promise.race([
            record.settled,
            new Promise((resolve) => (timer = setTimeout(resolve, outcomeTimeoutMs))),
          ]);
          clearTimeout(timer);
        }
      }),
    );
  } finally {
    if (tick) clearInterval(tick);
  }
  return { start, end: deadline };
}

/** Waits until every record has settled, or until `timeoutMs` has passed. */
export async function settledOrTimeout(records, timeoutMs) {
  let timer;
  await Promise.race([
    Promise.all(records.map((r) => r.settled)),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}

/**
 * The figures of a set of orders: POST latency and placed -> confirmed latency from each order's
 * scheduled send (an order still unconfirmed counts with its wait so far: a lower bound), and the
 * errors by kind, `unsent` (orders the open loop did not send) included.
 */
export function orderStats(records, { unsent = 0, at = now() } = {}) {
  const answered = records.filter((r) => r.status === 202);
  const post = answered.map((r) => r.answeredAt - r.scheduledAt);
  const confirmed = records.filter((r) => r.outcome === CONFIRMED);
  const unconfirmed = answered.filter((r) => r.outcome === undefined);
  const toConfirmed = [
    ...confirmed.map((r) => r.outcomeAt - r.scheduledAt),
    ...unconfirmed.map((r) => at - r.scheduledAt),
  ];
  const errors = {
    failed: records.filter((r) => r.error !== undefined && r.answeredAt !== undefined).length,
    unanswered: records.filter((r) => r.answeredAt === undefined).length,
    rejected: records.filter((r) => r.outcome === REJECTED).length,
    unconfirmed: unconfirmed.length,
    unsent,
  };
  return {
    orders: records.length,
    postP50: percentile(post, 50),
    postP99: percentile(post, 99),
    confirmP50: percentile(toConfirmed, 50),
    confirmP99: percentile(toConfirmed, 99),
    confirmMax: toConfirmed.length ? toConfirmed.reduce((a, b) => Math.max(a, b)) : NaN,
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
    firstErrors: [...new Set(records.map((r) => r.error).filter(Boolean))].slice(0, 3),
  };
}
