import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import {
  deadLetterQueueOf,
  declareQueue,
  retryQueueOf,
  type CloudEvent,
} from '@ordering/contracts';
import {
  type BrokerConnection,
  type Database,
  isConflict,
  isTransient,
  type ManagedChannel,
  PeriodicTask,
  publishConfirmed,
  type Transaction,
} from '@ordering/platform';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { isObservable, lastValueFrom } from 'rxjs';
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

/**
 * What a message changes, run in the consumer's transaction together with its inbox row. An
 * `@EventPattern` handler may first do what must not happen inside a transaction (ask another
 * service), then returns its effect; returning nothing records the message as handled.
 */
export type MessageEffect = (tx: Transaction) => Promise<void>;

export interface RabbitMqConsumerOptions {
  broker: BrokerConnection;
  database: Database;
  /** The consuming service: the inbox is kept per consumer. */
  consumer: string;
  queue: ConsumedQueue;
  prefetch: number;
  retry: RetryPolicy;
  inboxRetentionDays: number;
  validate: (message: unknown) => EventValidation;
}

const INBOX_CLEANUP_EVERY_MS = 60 * 60 * 1000;
const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 5000;
const MAX_ATTEMPT_HEADER = 1000;

class DuplicateDelivery extends Error {}

export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

/**
 * Which delivery this is, from our own `x-attempt` header. Anyone who can publish can set it, so
 * anything but a small positive integer counts as a first delivery: never a crash, never a
 * message dropped or retried forever.
 */
export function attemptOf(message: Pick<ConsumeMessage, 'properties'>): number {
  const raw: unknown = message.properties.headers?.['x-attempt'];
  const attempt =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? +raw : NaN;
  return Number.isInteger(attempt) && attempt >= 1 && attempt <= MAX_ATTEMPT_HEADER ? attempt : 1;
}

/**
 * A Nest transport that feeds one durable quorum queue to `@EventPattern` handlers, acknowledging
 * by hand and only after the handler's effect and the message's inbox row have committed
 * together: a duplicate delivery is acknowledged with no effect.
 *
 * Failures are told apart. When a dependency fails (the database, a service it asks), the message
 * stays where it is and is tried again, with growing pauses, until the dependency is back: that
 * costs it none of its retries. When the handler itself fails, the message goes through delay
 * queues with exponential backoff and, once its attempts are used up, to the dead-letter queue
 * with the last error; unparseable or invalid messages go there at once with the reason. Neither
 * holds back the messages behind it. A message whose copy the broker did not confirm is returned
 * to the queue, never held or dropped.
 */
export class RabbitMqConsumer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(RabbitMqConsumer.name);
  private channel?: ManagedChannel<ConfirmChannel>;
  private consumerTag?: string;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly inboxCleanup: PeriodicTask;

  constructor(private readonly options: RabbitMqConsumerOptions) {
    super();
    this.inboxCleanup = new PeriodicTask('Inbox clean-up', INBOX_CLEANUP_EVERY_MS, () =>
      this.deleteOldInboxRows(),
    );
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
    this.channel = this.options.broker.confirmChannel({
      name: `consumer of ${queue.name}`,
      setup: async (channel) => {
        await this.declareTopology(channel);
        await channel.prefetch(this.options.prefetch);
        const { consumerTag } = await channel.consume(
          queue.name,
          (message) => {
            if (message) return this.track(this.handle(message, channel));
            // The broker cancelled the consumer (its queue was deleted, say): start afresh on a
            // new channel, which declares the queue again and consumes from it.
            this.log.warn(`RabbitMQ cancelled the consumer of ${queue.name}; reopening`);
            void channel.close().catch(() => undefined);
          },
          { noAck: false },
        );
        this.consumerTag = consumerTag;
      },
    });
    this.inboxCleanup.start();
    // Start-up does not wait for the broker: the channel opens (and reopens) by itself.
    callback();
  }

  private async declareTopology(channel: ConfirmChannel): Promise<void> {
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

  private async handle(message: ConsumeMessage, channel: ConfirmChannel): Promise<void> {
    const attempt = attemptOf(message);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      return this.deadLetter(message, channel, 'unparseable', (error as Error).message, attempt);
    }
    const validation = this.options.validate(parsed);
    if (!validation.valid) {
      return this.deadLetter(message, channel, 'invalid', validation.reason, attempt);
    }
    const { event } = validation;
    const handler = this.getHandlerByPattern(event.type);
    if (!handler) {
      const reason = `no handler for ${event.type}`;
      return this.deadLetter(message, channel, 'unhandled', reason, attempt);
    }

    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
      try {
        await this.apply(handler, event, new EventContext([message, event, attempt]));
        return this.ack(message, channel);
      } catch (error) {
        if (error instanceof DuplicateDelivery) return this.ack(message, channel);
        if (!isTransient(error)) {
          return this.retryOrDeadLetter(message, channel, attempt, error as Error);
        }
        // Its channel is gone (the broker redelivers it) or the service is stopping.
        if (!this.isCurrent(channel) || this.closing) return;
        if (isConflict(error)) {
          // Lost a race with another transaction: again at once, after a moment's jitter.
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 45));
          pause = FIRST_PAUSE_MS / 2;
          continue;
        }
        this.log.warn(
          `${event.type} ${event.id}: ${(error as Error).message}; trying again in ${pause} ms ` +
            '(a dependency failed: this costs the message none of its attempts)',
        );
        await new Promise((resolve) => setTimeout(resolve, pause));
        if (!this.isCurrent(channel) || this.closing) return;
      }
    }
  }

  /** The handler's effect and the inbox row, committed together, or neither. */
  private async apply(handler: MessageHandler, event: CloudEvent, context: EventContext) {
    const { database, consumer } = this.options;
    // Most duplicates are turned away here, before the handler asks anything of anyone.
    const seen = await database.query(
      'SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2',
      [consumer, event.id],
    );
    if (seen.length > 0) throw new DuplicateDelivery();
    const effect = await this.invoke(handler, event, context);
    await database.transaction(
      async (tx) => {
        await effect?.(tx);
        // After the effect, so that an event store append is the transaction's first write.
        const inserted = await tx.query(
          `INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING message_id`,
          [consumer, event.id, event.type],
        );
        // A concurrent delivery of the same message committed first: undo this one.
        if (inserted.length === 0) throw new DuplicateDelivery();
      },
      { label: `consume ${event.type}` },
    );
  }

  /** Runs the Nest handler (guards, interceptors, filters, logging hooks included) to its end. */
  private invoke(
    handler: MessageHandler,
    event: CloudEvent,
    context: EventContext,
  ): Promise<MessageEffect | undefined> {
    return new Promise((resolve, reject) => {
      try {
        this.runWithProcessingHooks(context, async (runEndHook) => {
          try {
            let result: unknown = await handler(event, context);
            if (isObservable(result))
              result = await lastValueFrom(result, { defaultValue: undefined });
            if (result !== undefined && typeof result !== 'function') {
              throw new Error(
                `The handler of ${event.type} returned something other than an effect`,
              );
            }
            resolve(result as MessageEffect | undefined);
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
    channel: ConfirmChannel,
    attempt: number,
    error: Error,
  ): Promise<void> {
    const lastError = `${error.name}: ${error.message}`.slice(0, 1000);
    if (attempt >= this.options.retry.attempts) {
      return this.deadLetter(message, channel, 'handler-failed', lastError, attempt);
    }
    const delay = retryDelay(this.options.retry, attempt);
    this.log.warn(
      `${message.properties.type} ${message.properties.messageId} failed (attempt ${attempt}), ` +
        `retrying in ${delay} ms: ${lastError}`,
    );
    await this.republish(message, channel, retryQueueOf(this.options.queue.name, delay), {
      'x-attempt': attempt + 1,
      'x-last-error': lastError,
    });
  }

  private async deadLetter(
    message: ConsumeMessage,
    channel: ConfirmChannel,
    reason: string,
    detail: string,
    attempts: number,
  ): Promise<void> {
    this.log.error(
      `Dead-lettering ${message.properties.type ?? 'message'} ${message.properties.messageId ?? ''} ` +
        `from ${this.options.queue.name}: ${reason}: ${detail}`,
    );
    await this.republish(message, channel, deadLetterQueueOf(this.options.queue.name), {
      'x-death-reason': reason,
      'x-last-error': detail.slice(0, 1000),
      'x-attempts': attempts,
      'x-original-queue': this.options.queue.name,
      'x-dead-lettered-at': new Date().toISOString(),
    });
  }

  /**
   * Puts a copy on another queue and acknowledges the original once the broker has confirmed the
   * copy: at worst a crash in between delivers the message twice, never zero times. A copy that
   * is not confirmed sends the original back to its queue, to be handled again.
   */
  private async republish(
    message: ConsumeMessage,
    channel: ConfirmChannel,
    queue: string,
    headers: Record<string, unknown>,
  ): Promise<void> {
    try {
      await publishConfirmed(channel, '', queue, message.content, {
        ...message.properties,
        persistent: true,
        headers: { ...message.properties.headers, ...headers },
      });
    } catch (error) {
      this.log.error(
        `Could not move a message to ${queue}: ${(error as Error).message}; returning it to its queue`,
      );
      // A short pause, so that a broker refusing every copy is not asked again in a tight loop.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (this.isCurrent(channel)) channel.nack(message, false, true);
      return;
    }
    this.ack(message, channel);
  }

  private isCurrent(channel: ConfirmChannel): boolean {
    return this.channel?.current === channel;
  }

  private ack(message: ConsumeMessage, channel: ConfirmChannel): void {
    // On a channel closed since, this delivery tag means nothing: the broker has already put the
    // message back for redelivery, and the inbox will recognise it.
    if (this.isCurrent(channel)) channel.ack(message);
  }

  private async deleteOldInboxRows(): Promise<void> {
    await this.options.database.query(
      'DELETE FROM inbox WHERE consumer = $1 AND received_at < now() - make_interval(days => $2)',
      [this.options.consumer, this.options.inboxRetentionDays],
    );
  }

  /** Stops taking messages, lets those in hand finish, then closes its channel. */
  async close(): Promise<void> {
    this.closing = true;
    await this.inboxCleanup.stop();
    const channel = this.channel?.current;
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    if (this.channel) await this.options.broker.release(this.channel);
  }

  on(): void {
    // Connection events belong to the service's BrokerConnection.
  }

  unwrap<T>(): T {
    return this.channel as T;
  }
}
