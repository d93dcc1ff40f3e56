import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import {
  deadLetterQueueOf,
  declareQueue,
  retryQueueOf,
  type CloudEvent,
} from '@ordering/contracts';
import { preparedQuery } from '@ordering/platform';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { isObservable, lastValueFrom } from 'rxjs';
import type { DataSource } from 'typeorm';
import { EventContext } from './event-context.js';

export interface ConsumedQueue {
  name: string;
  exchange: string;
  routingKeys: readonly string[];
}

export interface RetryPolicy {
  /** Deliveries in all, the first included, before a failing message is dead-lettered. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type EventValidation = { valid: true; event: CloudEvent } | { valid: false; reason: string };

export interface RabbitMqConsumerOptions {
  url: string;
  /** The consuming service: the inbox is kept per consumer. */
  consumer: string;
  queue: ConsumedQueue;
  prefetch: number;
  retry: RetryPolicy;
  inboxRetentionDays: number;
  dataSource: DataSource;
  validate: (message: unknown) => EventValidation;
}

const INBOX_CLEANUP_EVERY_MS = 60 * 60 * 1000;

class DuplicateDelivery extends Error {}

export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

/**
 * A Nest transport that feeds one durable quorum queue to `@EventPattern` handlers, acknowledging
 * by hand and only after the handler's transaction (effect + inbox row) has committed. A duplicate
 * delivery is acknowledged with no effect. Unparseable or invalid messages go straight to the
 * dead-letter queue with the reason; a handler error is retried through delay queues with
 * exponential backoff, then dead-lettered with the last error. Nothing blocks the messages behind
 * a failing one. It reconnects and declares its topology again after a broker restart, and on
 * shutdown stops taking messages and finishes those in hand.
 */
export class RabbitMqConsumer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(RabbitMqConsumer.name);
  private manager?: AmqpConnectionManager;
  private channel?: ChannelWrapper;
  private readonly inFlight = new Set<Promise<void>>();
  /** Bumped on every (re)connect: a message may only be settled on the channel it came from. */
  private generation = 0;
  private cleanup?: NodeJS.Timeout;

  constructor(private readonly options: RabbitMqConsumerOptions) {
    super();
  }

  private get delays(): number[] {
    const { attempts } = this.options.retry;
    const delays = Array.from({ length: attempts - 1 }, (_, i) =>
      retryDelay(this.options.retry, i + 1),
    );
    return [...new Set(delays)];
  }

  listen(callback: () => void): void {
    const { queue } = this.options;
    const unbound = [...this.messageHandlers.keys()].filter(
      (key) => !queue.routingKeys.includes(key),
    );
    if (unbound.length > 0) {
      throw new Error(`Handlers for ${unbound.join(', ')} have no binding on queue ${queue.name}`);
    }
    this.manager = amqp.connect([this.options.url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: 1,
      // A connection attempt that hangs (a half-open socket) must fail, or it blocks reconnecting.
      connectionOptions: {
        timeout: 5000,
        clientProperties: { connection_name: `${this.options.consumer} consumer` },
      },
    });
    this.manager.on('disconnect', ({ err }) =>
      this.log.warn(`Consumer of ${queue.name} lost RabbitMQ: ${err?.message}; reconnecting`),
    );
    this.channel = this.manager.createChannel({
      name: queue.name,
      confirm: true,
      setup: (channel: ConfirmChannel) => this.declareTopology(channel),
    });
    // Setup or consume cut short by a lost connection is redone on reconnect; unheard, the
    // channel's error event would crash the process.
    this.channel.on('error', (error: Error) =>
      this.log.warn(`Consumer of ${queue.name}: ${error.message}; retrying on reconnect`),
    );
    void this.channel
      .consume(queue.name, (message) => this.track(this.handle(message)), {
        noAck: false,
        prefetch: this.options.prefetch,
      })
      .catch((error: Error) => this.log.error(`Cannot consume ${queue.name}: ${error.message}`));
    this.cleanup = setInterval(
      () => void this.deleteOldInboxRows(),
      INBOX_CLEANUP_EVERY_MS,
    ).unref();
    // Start-up does not wait for the broker: the channel connects (and reconnects) by itself.
    callback();
  }

  private async declareTopology(channel: ConfirmChannel): Promise<void> {
    this.generation++;
    const { queue } = this.options;
    await declareQueue(channel, { ...queue, routingKeys: [...this.messageHandlers.keys()] });
    for (const delay of this.delays) {
      // A delay queue has no consumer: its messages expire back into the main queue.
      await channel.assertQueue(retryQueueOf(queue.name, delay), {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue.name,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
      });
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(message: ConsumeMessage): Promise<void> {
    const generation = this.generation;
    const attempt = Number(message.properties.headers?.['x-attempt'] ?? 1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      return this.deadLetter(message, generation, 'unparseable', (error as Error).message, attempt);
    }
    const validation = this.options.validate(parsed);
    if (!validation.valid) {
      return this.deadLetter(message, generation, 'invalid', validation.reason, attempt);
    }
    const { event } = validation;
    const handler = this.getHandlerByPattern(event.type);
    if (!handler) {
      return this.deadLetter(
        message,
        generation,
        'unhandled',
        `no handler for ${event.type}`,
        attempt,
      );
    }

    try {
      await this.options.dataSource.transaction(async (tx) => {
        const seen = await preparedQuery(
          tx,
          'inbox-seen',
          'SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2',
          [this.options.consumer, event.id],
        );
        if (seen.length > 0) throw new DuplicateDelivery();
        await this.invoke(handler, event, new EventContext([message, tx, event, attempt]));
        // After the effect, so the effect's append is the transaction's first write.
        const inserted = await preparedQuery(
          tx,
          'inbox-record',
          `INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING message_id`,
          [this.options.consumer, event.id, event.type],
        );
        // A concurrent delivery of the same message committed first: undo this one.
        if (inserted.length === 0) throw new DuplicateDelivery();
      });
    } catch (error) {
      if (error instanceof DuplicateDelivery) return this.settle(message, generation);
      return this.retryOrDeadLetter(message, generation, attempt, error as Error);
    }
    this.settle(message, generation);
  }

  /** Runs the Nest handler (guards, interceptors, filters, logging hooks included) to its end. */
  private invoke(handler: MessageHandler, event: CloudEvent, context: EventContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        this.runWithProcessingHooks(context, async (runEndHook) => {
          try {
            const result = await handler(event, context);
            if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
            resolve();
          } catch (error) {
            reject(error as Error);
          } finally {
            runEndHook();
          }
        });
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  private async retryOrDeadLetter(
    message: ConsumeMessage,
    generation: number,
    attempt: number,
    error: Error,
  ): Promise<void> {
    const lastError = `${error.name}: ${error.message}`.slice(0, 1000);
    if (attempt >= this.options.retry.attempts) {
      return this.deadLetter(message, generation, 'handler-failed', lastError, attempt);
    }
    const delay = retryDelay(this.options.retry, attempt);
    this.log.warn(
      `${message.properties.type} ${message.properties.messageId} failed (attempt ${attempt}), ` +
        `retrying in ${delay} ms: ${lastError}`,
    );
    await this.republish(message, generation, retryQueueOf(this.options.queue.name, delay), {
      'x-attempt': attempt + 1,
      'x-last-error': lastError,
    });
  }

  private async deadLetter(
    message: ConsumeMessage,
    generation: number,
    reason: string,
    detail: string,
    attempts: number,
  ): Promise<void> {
    this.log.error(
      `Dead-lettering ${message.properties.type ?? 'message'} ${message.properties.messageId ?? ''} ` +
        `from ${this.options.queue.name}: ${reason}: ${detail}`,
    );
    await this.republish(message, generation, deadLetterQueueOf(this.options.queue.name), {
      'x-death-reason': reason,
      'x-last-error': detail.slice(0, 1000),
      'x-attempts': attempts,
      'x-original-queue': this.options.queue.name,
      'x-dead-lettered-at': new Date().toISOString(),
    });
  }

  /**
   * Puts a copy on another queue and acknowledges the original only once the broker has
   * confirmed the copy: at worst a crash in between delivers the message twice, never zero times.
   */
  private async republish(
    message: ConsumeMessage,
    generation: number,
    queue: string,
    headers: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.channel!.publish('', queue, message.content, {
        ...message.properties,
        persistent: true,
        headers: { ...message.properties.headers, ...headers },
        timeout: 10_000,
      });
    } catch (error) {
      // Not confirmed: leave the original unacknowledged; the broker redelivers it.
      this.log.error(`Could not move a message to ${queue}: ${(error as Error).message}`);
      return;
    }
    this.settle(message, generation);
  }

  private settle(message: ConsumeMessage, generation: number): void {
    // On a channel opened since, this delivery tag means nothing: the broker has already put
    // the message back for redelivery, and the inbox will recognise it.
    if (generation !== this.generation) return;
    this.channel!.ack(message);
  }

  private async deleteOldInboxRows(): Promise<void> {
    try {
      await this.options.dataSource.query(
        `DELETE FROM inbox WHERE consumer = $1 AND received_at < now() - make_interval(days => $2)`,
        [this.options.consumer, this.options.inboxRetentionDays],
      );
    } catch (error) {
      this.log.warn(`Could not delete old inbox rows: ${(error as Error).message}`);
    }
  }

  /** Stops taking messages, lets those in hand finish, then closes the connection. */
  async close(): Promise<void> {
    clearInterval(this.cleanup);
    await this.channel?.cancelAll().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.channel?.close();
    await this.manager?.close();
  }

  on(event: string, callback: Function): void {
    this.manager?.on(event as 'connect', callback as () => void);
  }

  unwrap<T>(): T {
    return this.manager as T;
  }
}
