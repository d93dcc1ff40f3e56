// A thread of the floor scenario: `producers` (N concurrent transactions, each inserting one event
// row and one outbox row, then waking the relay) or `relay` (select unsent rows in batches,
// publish them on a confirm channel, wait for the confirms, mark them sent). Counts go into a
// shared Int32Array so the main thread reads them without messages; a `stop` message ends the
// loop.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import amqplib from 'amqplib';
import pg from 'pg';
import {
  cloudEvent,
  EVENT_TYPE,
  metadata,
  orderData,
  publishProperties,
  ROUTING_KEY,
} from './payloads.mjs';

const { role, counters } = workerData;
const count = new Int32Array(counters);
const commits = new Int32Array(workerData.commits);
let running = true;
parentPort.on('message', (message) => {
  if (message === 'stop') running = false;
});

const INSERT_EVENT = {
  name: 'floor-insert-event',
  text: `INSERT INTO events (stream_id, stream_position, type, schema_version, data, metadata)
         VALUES ($1, 1, $2, 1, $3, $4)`,
};
const INSERT_OUTBOX = {
  name: 'floor-insert-outbox',
  text: `INSERT INTO outbox (message_id, exchange, routing_key, aggregate_id, payload)
         VALUES ($1, $2, $3, $4, $5)`,
};

async function producers({ databaseUrl, concurrency, exchange }) {
  const clients = [];
  for (let i = 0; i < concurrency; i++) {
    const client = new pg.Client({
      connectionString: databaseUrl,
      application_name: 'bench-floor-producer',
    });
    await client.connect();
    clients.push(client);
  }
  parentPort.postMessage('ready');
  await Promise.all(
    clients.map(async (client) => {
      while (running) {
        const orderId = randomUUID();
        const messageId = randomUUID();
        await client.query('BEGIN');
        await client.query({
          ...INSERT_EVENT,
          values: [
            `order-${orderId}`,
            EVENT_TYPE,
            JSON.stringify(orderData(orderId)),
            JSON.stringify(metadata(messageId)),
          ],
        });
        await client.query({
          ...INSERT_OUTBOX,
          values: [
            messageId,
            exchange,
            ROUTING_KEY,
            orderId,
            JSON.stringify(cloudEvent(orderId, messageId)),
          ],
        });
        await client.query('COMMIT');
        Atomics.add(count, 0, 1);
        Atomics.add(commits, 0, 1);
        Atomics.notify(commits, 0);
      }
    }),
  );
  await Promise.all(clients.map((client) => client.end()));
}

async function relay({ databaseUrl, amqpUrl, exchange, batchSize }) {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'bench-floor-relay',
  });
  await client.connect();
  const connection = await amqplib.connect(amqpUrl, {
    clientProperties: { connection_name: 'bench-floor-relay' },
  });
  const channel = await connection.createConfirmChannel();
  parentPort.postMessage('ready');
  while (running) {
    const seen = Atomics.load(commits, 0);
    // The payload as text: published as stored, never parsed and re-serialised.
    const { rows } = await client.query({
      name: 'floor-next-batch',
      text: `SELECT id, message_id, routing_key, payload::text AS payload FROM outbox
             WHERE sent_at IS NULL ORDER BY id LIMIT $1`,
      values: [batchSize],
    });
    if (rows.length === 0) {
      // Until a producer commits again (50 ms at most, so a stop is noticed).
      await Atomics.waitAsync(commits, 0, seen, 50).value;
      continue;
    }
    for (const row of rows) {
      const ok = channel.publish(
        exchange,
        row.routing_key,
        Buffer.from(row.payload),
        publishProperties(row.message_id),
      );
      if (!ok) await once(channel, 'drain');
    }
    await channel.waitForConfirms();
    await client.query({
      name: 'floor-mark-sent',
      text: 'UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])',
      values: [rows.map((row) => row.id)],
    });
    Atomics.add(count, 0, rows.length);
    Atomics.add(count, 1, 1);
  }
  await channel.close();
  await connection.close();
  await client.end();
}

try {
  await (role === 'producers' ? producers(workerData) : relay(workerData));
  parentPort.postMessage('stopped');
} catch (error) {
  parentPort.postMessage({ error: error.stack ?? String(error) });
}
