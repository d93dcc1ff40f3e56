// Dead-letter queues, operable: `npm run dlq -- list|replay|purge <queue> [--id <messageId>] [--yes]`.
// <queue> is a consumer's queue (inventory.order.events) or its dead-letter queue (….dlq).
import './dot-env.mjs';
import { createInterface } from 'node:readline/promises';
import amqplib from 'amqplib';

const USAGE = `Usage:
  npm run dlq -- list <queue>                      show each dead letter, its reason and attempts
  npm run dlq -- replay <queue> [--id <messageId>] send dead letters back to <queue>, once each
  npm run dlq -- purge <queue> [--yes]             delete every dead letter (asks first)
Queues: inventory.order.events, order.inventory.events, notification.order.events`;

const FAILURE_HEADERS = [
  'x-attempt',
  'x-death-reason',
  'x-last-error',
  'x-attempts',
  'x-death',
  'x-publish-id',
];

const [command, target, ...rest] = process.argv.slice(2);
const option = (name) => {
  const index = rest.indexOf(name);
  return index === -1 ? undefined : (rest[index + 1] ?? '');
};
if (!['list', 'replay', 'purge'].includes(command) || !target) {
  console.error(USAGE);
  process.exit(2);
}
const queue = target.replace(/\.dlq$/, '');
const deadLetters = `${queue}.dlq`;
// The first node of a cluster: a cluster's queues are reachable from any of its nodes.
const url = (process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672').split(',')[0].trim();

const connection = await amqplib.connect(url).catch((error) => {
  console.error(
    `Cannot reach RabbitMQ at ${url.replace(/:[^:@/]*@/, ':***@')}: ${error.code ?? error.message}`,
  );
  process.exit(1);
});
const channel = await connection.createConfirmChannel();
try {
  const { messageCount } = await channel.checkQueue(deadLetters).catch(() => {
    console.error(
      `No dead-letter queue ${deadLetters}: is ${queue} the name of a consumer's queue?`,
    );
    process.exit(2);
  });
  if (command === 'purge') await purge(channel, messageCount);
  else await browse(channel, messageCount, command === 'replay');
} finally {
  // Whatever was taken and not acknowledged goes back to the dead-letter queue. The channel is
  // closed first: closing the connection outright can drop acknowledgements still in flight.
  await channel.close();
  await connection.close();
}

/** Takes every dead letter in turn; replays (and acknowledges) the chosen ones. */
async function browse(channel, count, replay) {
  const only = option('--id');
  let replayed = 0;
  for (let taken = 0; taken < count; taken++) {
    const message = await channel.get(deadLetters, { noAck: false });
    if (!message) break;
    const { messageId, type, headers = {} } = message.properties;
    console.log(
      [
        `${messageId ?? '(no id)'}  ${type ?? '(no type)'}`,
        `  reason:   ${headers['x-death-reason'] ?? deathReason(headers)}`,
        `  attempts: ${headers['x-attempts'] ?? headers['x-delivery-count'] ?? '?'}`,
        `  error:    ${headers['x-last-error'] ?? '-'}`,
        `  at:       ${headers['x-dead-lettered-at'] ?? '-'}`,
      ].join('\n'),
    );
    if (!replay || (only !== undefined && messageId !== only)) continue;
    // A replay starts over: a fresh set of attempts, no verdict from the last time.
    const kept = Object.fromEntries(
      Object.entries(headers).filter(([name]) => !FAILURE_HEADERS.includes(name)),
    );
    await new Promise((resolve, reject) =>
      // Through the queue's redelivery exchange, which the service's own user may write to.
      channel.publish(
        `${queue}.redelivery`,
        queue,
        message.content,
        { ...message.properties, headers: { ...kept, 'x-replayed-at': new Date().toISOString() } },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    channel.ack(message);
    replayed++;
    console.log(`  replayed to ${queue}`);
  }
  if (count === 0) console.log(`${deadLetters} is empty`);
  if (replay) console.log(`Replayed ${replayed} of ${count} dead letters from ${deadLetters}`);
}

function deathReason(headers) {
  const death = headers['x-death']?.[0];
  return death ? `${death.reason} by the broker (from ${death.queue})` : '-';
}

async function purge(channel, count) {
  if (count === 0) return console.log(`${deadLetters} is empty`);
  if (!rest.includes('--yes')) {
    if (!process.stdin.isTTY) {
      console.error(`Refusing to purge ${count} dead letters without --yes`);
      process.exit(2);
    }
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(
      `Delete ${count} dead letters from ${deadLetters}? [y/N] `,
    );
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) return console.log('Nothing deleted');
  }
  const { messageCount } = await channel.purgeQueue(deadLetters);
  console.log(`Deleted ${messageCount} dead letters from ${deadLetters}`);
}
