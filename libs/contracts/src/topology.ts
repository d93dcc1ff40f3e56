import type { ServiceName } from './cloud-event.js';
import { Exchanges, type ExchangeName } from './exchanges.js';

/**
 * The consumer side of the broker: a consumer's durable quorum queue on one source exchange, and
 * the routing keys (event types) bound to it.
 */
export interface QueueDefinition {
  /** `<consumer>.<exchange>` */
  name: string;
  consumer: ServiceName;
  exchange: ExchangeName;
  routingKeys: readonly string[];
}

/**
 * Every queue of the system, named `<consumer>.<exchange>`. Each queue Q has a dead-letter queue
 * `Q.dlq` and delay queues `Q.retry.<delay>ms` that feed retries back into Q. docs/asyncapi.yaml
 * documents each one (asyncapi.spec.ts keeps the two in step).
 */
export const Queues = {
  inventoryOrderEvents: {
    name: 'inventory.order.events',
    consumer: 'inventory',
    exchange: Exchanges.order,
    routingKeys: ['order.placed', 'order.cancelled', 'order.rejected'],
  },
  orderInventoryEvents: {
    name: 'order.inventory.events',
    consumer: 'order',
    exchange: Exchanges.inventory,
    routingKeys: [
      'inventory.reserved',
      'inventory.reservation-failed',
      'inventory.released',
      'product.updated',
    ],
  },
  notificationOrderEvents: {
    name: 'notification.order.events',
    consumer: 'notification',
    exchange: Exchanges.order,
    routingKeys: ['order.placed', 'order.confirmed', 'order.rejected', 'order.cancelled'],
  },
} as const satisfies Record<string, QueueDefinition>;

/** Where a queue's messages go when they cannot be handled, with the reason in their headers. */
export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;

/**
 * The delay queue that holds a message for `delayMs` before it goes back to `queue`. Named by
 * its delay, so changing the retry settings makes new queues instead of clashing with old ones.
 */
export function retryQueueOf(queue: string, delayMs: number): string {
  if (!Number.isInteger(delayMs) || delayMs < 1) {
    throw new RangeError(`a retry delay is a whole number of milliseconds, not ${delayMs}`);
  }
  return `${queue}.retry.${delayMs}ms`;
}

/** Redeliveries the broker allows before it dead-letters by itself: the guard against crash loops. */
export const DELIVERY_LIMIT = 20;

/**
 * The direct exchange through which a consumer's messages move between its own queues (to a
 * delay queue, to its dead-letter queue, back), with each queue's name as routing key. Not the
 * default exchange: a user allowed to write there can put messages in any queue, and RabbitMQ
 * asks that right of whoever declares a queue that dead-letters there.
 */
export const redeliveryExchangeOf = (queue: string) => `${queue}.redelivery`;

/** The arguments every consumer queue is declared with (declaring them differently fails). */
export const queueArgumentsOf = (queue: string) => ({
  'x-queue-type': 'quorum',
  'x-delivery-limit': DELIVERY_LIMIT,
  'x-dead-letter-exchange': redeliveryExchangeOf(queue),
  'x-dead-letter-routing-key': deadLetterQueueOf(queue),
});

/** The part of an AMQP channel that declares topology (amqplib's channels fit it). */
export interface TopologyChannel {
  assertExchange(
    exchange: string,
    type: 'topic' | 'direct',
    options: { durable: boolean },
  ): Promise<unknown>;
  /** Passive: fails if the exchange is not there, and needs no permission to configure it. */
  checkExchange(exchange: string): Promise<unknown>;
  assertQueue(
    queue: string,
    options: { durable: boolean; arguments: Record<string, unknown> },
  ): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
}

/**
 * Declares every exchange, queue, dead-letter queue and binding of the system, as an
 * administrator (`scripts/broker-setup.mjs`, before the services start), so an event published
 * before its consumer ever started waits in that consumer's queue instead of being unroutable.
 * A service itself declares only what it owns (`declareQueue`, its own exchange).
 */
export async function declareTopology(channel: TopologyChannel): Promise<void> {
  for (const exchange of Object.values(Exchanges)) {
    await channel.assertExchange(exchange, 'topic', { durable: true });
  }
  for (const queue of Object.values(Queues)) {
    await declareQueue(channel, queue);
  }
}

/**
 * One consumer queue: a durable quorum queue bound to its exchange, that dead-letters into
 * `<queue>.dlq`, with a delay queue for each of `retryDelaysMs` that feeds back into it, and its
 * redelivery exchange. The source exchange is only checked: it belongs to its publisher. A
 * downstream team declares its own queue with it too.
 */
export async function declareQueue(
  channel: TopologyChannel,
  queue: Pick<QueueDefinition, 'name' | 'routingKeys'> & { exchange: string },
  retryDelaysMs: readonly number[] = [],
): Promise<void> {
  await channel.checkExchange(queue.exchange);
  const redelivery = redeliveryExchangeOf(queue.name);
  await channel.assertExchange(redelivery, 'direct', { durable: true });
  const deadLetters = deadLetterQueueOf(queue.name);
  await channel.assertQueue(deadLetters, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum' },
  });
  await channel.bindQueue(deadLetters, redelivery, deadLetters);
  await channel.assertQueue(queue.name, { durable: true, arguments: queueArgumentsOf(queue.name) });
  await channel.bindQueue(queue.name, redelivery, queue.name);
  for (const routingKey of queue.routingKeys) {
    await channel.bindQueue(queue.name, queue.exchange, routingKey);
  }
  for (const delay of retryDelaysMs) {
    const retries = retryQueueOf(queue.name, delay);
    // A delay queue has no consumer: its messages expire back into the main queue.
    await channel.assertQueue(retries, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': delay,
        'x-dead-letter-exchange': redelivery,
        'x-dead-letter-routing-key': queue.name,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    await channel.bindQueue(retries, redelivery, retries);
  }
}

/** RabbitMQ permissions (regular expressions on exchange and queue names) for a service's user. */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
}

const literally = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What a service's own RabbitMQ user may do: declare, publish to and consume from only what is
 * named `<service>.`: its exchange, its queues and their redelivery exchanges; and read (bind
 * its queues to) the exchanges it consumes from. It cannot consume another service's queue,
 * publish to another's exchange, or reach any queue through the default exchange.
 */
export function brokerPermissionsOf(service: ServiceName): BrokerPermissions {
  const own = `^${literally(`${service}.`)}`;
  const sources = [
    ...new Set(
      Object.values(Queues as Record<string, QueueDefinition>)
        .filter((queue) => queue.consumer === service)
        .map((queue) => queue.exchange),
    ),
  ];
  return {
    configure: own,
    write: own,
    read: `^(${[`${literally(`${service}.`)}.*`, ...sources.map(literally)].join('|')})$`,
  };
}
