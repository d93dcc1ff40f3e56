import { Exchanges } from './exchanges.js';

/** A consumer's durable quorum queue on one source exchange, and the routing keys it takes. */
export interface QueueDefinition {
  name: string;
  consumer: 'order' | 'inventory' | 'notification';
  exchange: string;
  routingKeys: readonly string[];
}

/**
 * Every queue of the system, named `<consumer>.<exchange>`. Each has a dead-letter queue
 * `<queue>.dlq` and delay queues `<queue>.retry.<delay>ms` that feed retries back into it.
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
    routingKeys: ['order.confirmed', 'order.rejected', 'order.cancelled'],
  },
} as const satisfies Record<string, QueueDefinition>;

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;
export const retryQueueOf = (queue: string, delayMs: number) => `${queue}.retry.${delayMs}ms`;

/** Redeliveries the broker allows before it dead-letters by itself: the guard against crash loops. */
export const DELIVERY_LIMIT = 20;

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

/** One consumer queue: a durable quorum queue that dead-letters into `<queue>.dlq`. */
export async function declareQueue(
  channel: TopologyChannel,
  queue: Pick<QueueDefinition, 'name' | 'exchange' | 'routingKeys'>,
): Promise<void> {
  const deadLetters = deadLetterQueueOf(queue.name);
  await channel.assertExchange(queue.exchange, 'topic', { durable: true });
  await channel.assertQueue(deadLetters, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum' },
  });
  await channel.assertQueue(queue.name, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetters,
    },
  });
  for (const routingKey of queue.routingKeys) {
    await channel.bindQueue(queue.name, queue.exchange, routingKey);
  }
}
