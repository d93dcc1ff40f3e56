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

/** The arguments every consumer queue is declared with (declaring them differently fails). */
export const queueArgumentsOf = (queue: string) => ({
  'x-queue-type': 'quorum',
  'x-delivery-limit': DELIVERY_LIMIT,
  'x-dead-letter-exchange': '',
  'x-dead-letter-routing-key': deadLetterQueueOf(queue),
});

/** The part of an AMQP channel that declares topology (amqplib's channels fit it). */
export interface TopologyChannel {
  assertExchange(exchange: string, type: 'topic', options: { durable: boolean }): Promise<unknown>;
  assertQueue(
    queue: string,
    options: { durable: boolean; arguments: Record<string, unknown> },
  ): Promise<unknown>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<unknown>;
}

/**
 * Declares every exchange, queue, dead-letter queue and binding of the system. Every service
 * declares all of it when it connects, so an event published before its consumer ever started
 * waits in that consumer's queue instead of being unroutable.
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
 * `<queue>.dlq`. A downstream team declares its own queue with it too.
 */
export async function declareQueue(
  channel: TopologyChannel,
  queue: Pick<QueueDefinition, 'name' | 'routingKeys'> & { exchange: string },
): Promise<void> {
  await channel.assertExchange(queue.exchange, 'topic', { durable: true });
  await channel.assertQueue(deadLetterQueueOf(queue.name), {
    durable: true,
    arguments: { 'x-queue-type': 'quorum' },
  });
  await channel.assertQueue(queue.name, { durable: true, arguments: queueArgumentsOf(queue.name) });
  for (const routingKey of queue.routingKeys) {
    await channel.bindQueue(queue.name, queue.exchange, routingKey);
  }
}
