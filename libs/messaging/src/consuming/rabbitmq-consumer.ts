import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import {
  deadLetterQueueOf,
  redeliveryExchangeOf,
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
  messageBatchDuration,
  messagesConsumed,
  contextOf,
  endFailed,
  isValidTraceparent,
  SpanKind,
  startSpan,
} from '@ordering/platform';
import { context, type Span } from '@opentelemetry/api';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { isObservable, lastValueFrom } from 'rxjs';
import { EventContext } from './event-context.js';
import { UnsettledDeliveries } from './unsettled-deliveries.js';

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

/**
 * The locks a batch's transaction takes before any effect runs, for all its messages at once and
 * in one fixed order: concurrent batches then cannot deadlock, and a batch that appends to event
 * streams claims them all with its first write (which keeps readAll's log order; see EventStore).
 */
export type BatchLocks = (tx: Transaction, events: readonly CloudEvent[]) => Promise<void>;

export interface BatchPolicy {
  /** Deliveries handled in one transaction, at most. */
  size: number;
  /** How long an idle consumer waits for more deliveries before starting a smaller batch. */
  lingerMs: number;
}

export interface RabbitMqConsumerOptions {
  broker: BrokerConnection;
  database: Database;
  /** The consuming service: the inbox is kept per consumer. */
  consumer: string;
  queue: ConsumedQueue;
  /** At least twice the batch size, so the next batch is in hand while one commits. */
  prefetch: number;
  batch: BatchPolicy;
  locks?: BatchLocks;
  retry: RetryPolicy;
  inboxRetentionDays: number;
  validate: (message: unknown) => EventValidation;
}

const INBOX_CLEANUP_EVERY_MS = 60 * 60 * 1000;
const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 5000;
const MAX_ATTEMPT_HEADER = 1000;

class DuplicateDelivery extends Error {}

/**
 * Whether a batch may hold a message applied before, so that asking the inbox first is worth a
 * statement: only a redelivery can (a batch that committed and lost its channel before the acks).
 * A message published twice (a relay that lost its confirms) comes as a first delivery, and is
 * caught by the batch's inbox insert instead: rare enough that rolling its batch back costs less
 * than a statement more for every batch.
 */
function mayBeSeen(batch: readonly Delivery[]): boolean {
  return batch.some((delivery) => delivery.message.fields.redelivered);
}

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

/** A delivery that parsed, passed its contract and has a handler: ready for a batch. */
interface Delivery {
  message: ConsumeMessage;
  channel: ConfirmChannel;
  event: CloudEvent;
  handler: MessageHandler;
  attempt: number;
}

/**
 * A Nest transport that feeds one durable quorum queue to `@EventPattern` handlers, acknowledging
 * by hand and only after the handlers' effects and the messages' inbox rows have committed
 * together: a duplicate delivery is acknowledged with no effect.
 *
 * Deliveries are handled in batches, one batch at a time: up to `batch.size` messages in one
 * transaction (their locks first, then each effect in delivery order, so one aggregate's messages
 * apply in the order they came, then one inbox insert), one commit, then the acks: one
 * `multiple` ack when the batch holds every unsettled delivery of its channel up to its last tag
 * (UnsettledDeliveries), else one per delivery. A batch that fails for any reason is split: its messages are
 * handled one by one, so only the one at fault is retried or dead-lettered.
 *
 * Failures of a single message are told apart. When a dependency fails (the database, a service
 * it asks), the message stays where it is and is tried again, with growing pauses, until the
 * dependency is back: that costs it none of its retries. When the handler itself fails, the
 * message goes through delay queues with exponential backoff and, once its attempts are used up,
 * to the dead-letter queue with the last error; unparseable or invalid messages go there at once
 * with the reason. Neither holds back the messages behind it for long. A message whose copy the
 * broker did not confirm is returned to the queue, never held or dropped.
 */
export class RabbitMqConsumer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(RabbitMqConsumer.name);
  private channel?: ManagedChannel<ConfirmChannel>;
  private consumerTag?: string;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly inboxCleanup: PeriodicTask;
  /** Event type to handler, resolved once: no pattern parsing per message. */
  private handlers = new Map<string, MessageHandler>();
  private readonly waiting: Delivery[] = [];
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  private readonly unsettled = new WeakMap<ConfirmChannel, UnsettledDeliveries>();
  private running?: Promise<void>;
  private lingering?: NodeJS.Timeout;

  constructor(private readonly options: RabbitMqConsumerOptions) {
    super();
    if (options.prefetch < 2 * options.batch.size) {
      throw new Error(
        `A prefetch of ${options.prefetch} cannot keep the next batch of ${options.batch.size} ` +
          'in hand: make it at least twice the batch size',
      );
    }
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
    this.handlers = new Map(this.messageHandlers);
    this.channel = this.options.broker.confirmChannel({
      name: `consumer of ${queue.name}`,
      setup: async (channel) => {
        channel.once('close', () => this.closedChannels.add(channel));
        await declareQueue(
          channel,
          { ...queue, routingKeys: [...this.messageHandlers.keys()] },
          this.delays,
        );
        await channel.prefetch(this.options.prefetch);
        const { consumerTag } = await channel.consume(
          queue.name,
          (message) => {
            if (message) return this.receive(message, channel);
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

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  /** Turns away what can never be handled, and queues the rest for the next batch. */
  private receive(message: ConsumeMessage, channel: ConfirmChannel): void {
    this.unsettledOf(channel).received(message.fields.deliveryTag);
    const attempt = attemptOf(message);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      const detail = (error as Error).message;
      void this.track(this.deadLetter(message, channel, 'unparseable', detail, attempt));
      return;
    }
    const validation = this.options.validate(parsed);
    if (!validation.valid) {
      void this.track(this.deadLetter(message, channel, 'invalid', validation.reason, attempt));
      return;
    }
    const { event } = validation;
    const handler = this.handlers.get(event.type);
    if (!handler) {
      const reason = `no handler for ${event.type}`;
      void this.track(this.deadLetter(message, channel, 'unhandled', reason, attempt));
      return;
    }
    this.waiting.push({ message, channel, event, handler, attempt });
    this.startBatch();
  }

  /**
   * Starts the next batch unless one is running: at once when a full batch is waiting, else
   * after the linger (a batch that ends takes what came in meanwhile without waiting).
   */
  private startBatch(linger = true): void {
    if (this.running || this.closing || this.waiting.length === 0) return;
    const { size, lingerMs } = this.options.batch;
    if (this.waiting.length < size && linger) {
      this.lingering ??= setTimeout(() => {
        this.lingering = undefined;
        this.startBatch(false);
      }, lingerMs);
      return;
    }
    clearTimeout(this.lingering);
    this.lingering = undefined;
    // Deliveries of a channel that has closed since are the broker's again: it redelivers them.
    const batch = this.waiting.splice(0, size).filter((d) => this.isOpen(d.channel));
    this.running = this.track(
      this.handleBatch(batch)
        .catch((error: Error) => this.log.error(`A batch failed unexpectedly: ${error.stack}`))
        .finally(() => {
          this.running = undefined;
          this.startBatch(false);
        }),
    );
  }

  private async handleBatch(batch: Delivery[]): Promise<void> {
    if (batch.length === 0) return;
    if (batch.length === 1) return this.handleAlone(batch[0], mayBeSeen(batch));
    try {
      await this.apply(batch, mayBeSeen(batch));
    } catch {
      // Whatever went wrong (a poison message, a duplicate, a lost connection, a lost race),
      // nothing of the batch committed: each message now goes on its own, turned away first if it
      // was a duplicate, and only the one at fault fails.
      for (const delivery of batch) {
        if (!this.isOpen(delivery.channel) || this.closing) return;
        await this.handleAlone(delivery, true);
      }
      return;
    }
    this.ackAll(batch);
  }

  private async handleAlone(delivery: Delivery, checkInboxFirst: boolean): Promise<void> {
    const { event, channel } = delivery;
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
      try {
        await this.apply([delivery], checkInboxFirst);
        return this.ack(delivery);
      } catch (error) {
        // The attempt that failed may have committed (a connection lost during COMMIT).
        checkInboxFirst = true;
        if (error instanceof DuplicateDelivery) {
          this.count(event.type, 'duplicate');
          return this.ack(delivery);
        }
        if (!isTransient(error)) return this.retryOrDeadLetter(delivery, error as Error);
        // Its channel is gone (the broker redelivers it) or the service is stopping.
        if (!this.isOpen(channel) || this.closing) return;
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
        if (!this.isOpen(channel) || this.closing) return;
      }
    }
  }

  /**
   * The handlers' effects and the inbox rows of a batch, committed together, or nothing. Returns
   * normally when every message is applied or was already; throws when nothing committed.
   */
  private async apply(batch: readonly Delivery[], checkInboxFirst: boolean): Promise<void> {
    const queue = this.options.queue.name;
    const endTimer = messageBatchDuration.startTimer({ messaging_destination_name: queue });
    try {
      await this.applyTimed(batch, checkInboxFirst);
    } finally {
      endTimer();
    }
  }

  /**
   * With `checkInboxFirst`, the messages already applied are turned away before a handler asks
   * anything of anyone. Without it, the batch's inbox insert is the only check: a message applied
   * before makes it insert fewer rows, and the whole batch rolls back (DuplicateDelivery).
   */
  private async applyTimed(batch: readonly Delivery[], checkInboxFirst: boolean): Promise<void> {
    const { database, consumer } = this.options;
    const seen = checkInboxFirst
      ? await database.query<{ message_id: string }>(
          'SELECT message_id FROM inbox WHERE consumer = $1 AND message_id = ANY($2::uuid[])',
          [consumer, batch.map((d) => d.event.id)],
          { plan: 'per-execution' },
        )
      : [];
    const done = new Set(seen.map((row) => row.message_id));
    // A message delivered twice in one batch counts once.
    const fresh = batch.filter((d) => !done.has(d.event.id) && done.add(d.event.id));
    // Counted once the batch is through: one that fails is handled again message by message.
    const duplicates = batch.length === fresh.length ? [] : batch.filter((d) => !fresh.includes(d));
    const countDuplicates = () => {
      for (const { event } of duplicates) this.count(event.type, 'duplicate');
    };
    if (fresh.length === 0) return countDuplicates();

    // Each message's handler and effect run in its own span, so that what it causes (outgoing
    // events, log lines) belongs to its trace, whichever batch it shares a transaction with.
    const spans = fresh.map((delivery) => this.processSpan(delivery, batch.length));
    const inSpanOf = <T>(index: number, work: () => T): T =>
      context.with(contextOf(spans[index]), work);
    try {
      const effects = await Promise.all(
        fresh.map((delivery, index) => inSpanOf(index, () => this.invoke(delivery))),
      );
      await this.commit(fresh, effects, inSpanOf);
    } catch (error) {
      for (const span of spans) endFailed(span, error);
      throw error;
    }
    for (const span of spans) span.end();
    countDuplicates();
  }

  private async commit(
    fresh: readonly Delivery[],
    effects: readonly (MessageEffect | undefined)[],
    inSpanOf: <T>(index: number, work: () => T) => T,
  ): Promise<void> {
    const { database, consumer } = this.options;
    const events = fresh.map((d) => d.event);
    await database.transaction(
      async (tx) => {
        await this.options.locks?.(tx, events);
        for (const [index, effect] of effects.entries()) {
          if (effect) await inSpanOf(index, () => effect(tx));
        }
        // After the effects, so that an event store append is the transaction's first write.
        const inserted = await tx.query(
          `INSERT INTO inbox (consumer, message_id, message_type)
           SELECT $1, id, type FROM unnest($2::uuid[], $3::text[]) AS m(id, type)
           ON CONFLICT DO NOTHING RETURNING message_id`,
          [consumer, events.map((e) => e.id), events.map((e) => e.type)],
        );
        // A concurrent delivery of one of them committed first: undo this batch.
        if (inserted.length < events.length) throw new DuplicateDelivery();
      },
      { label: `consume ${[...new Set(events.map((e) => e.type))].join(', ')}` },
    );
    for (const event of events) this.count(event.type, 'handled');
  }

  /**
   * A CONSUMER span (OpenTelemetry's messaging conventions) under the publish span named by the
   * message's `traceparent` header, or else under its producer's (the CloudEvent's), or a new
   * trace. Either may be anything a publisher chose: an invalid one is ignored.
   */
  private processSpan({ message, event, attempt }: Delivery, batchSize: number): Span {
    const header: unknown = message.properties.headers?.traceparent;
    return startSpan(`process ${this.options.queue.name}`, {
      kind: SpanKind.CONSUMER,
      parent: typeof header === 'string' && isValidTraceparent(header) ? header : event.traceparent,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': message.fields.exchange,
        'messaging.rabbitmq.destination.routing_key': message.fields.routingKey,
        'messaging.consumer.group.name': this.options.queue.name,
        'messaging.message.id': event.id,
        'messaging.message.conversation_id': event.correlationid,
        'messaging.batch.message_count': batchSize,
        'cloudevents.event_type': event.type,
        'ordering.delivery.attempt': attempt,
      },
    });
  }

  private count(type: string, outcome: 'handled' | 'duplicate' | 'retried' | 'dead_lettered') {
    messagesConsumed.inc({
      messaging_destination_name: this.options.queue.name,
      message_type: type,
      outcome,
    });
  }

  /** Runs the Nest handler (guards, interceptors, filters, logging hooks included) to its end. */
  private invoke({
    handler,
    event,
    message,
    attempt,
  }: Delivery): Promise<MessageEffect | undefined> {
    const context = new EventContext([message, event, attempt]);
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
    { message, channel, attempt, event }: Delivery,
    error: Error,
  ): Promise<void> {
    const lastError = `${error.name}: ${error.message}`.slice(0, 1000);
    if (attempt >= this.options.retry.attempts) {
      return this.deadLetter(message, channel, 'handler-failed', lastError, attempt, event.type);
    }
    const delay = retryDelay(this.options.retry, attempt);
    this.log.warn(
      `${message.properties.type} ${message.properties.messageId} failed (attempt ${attempt}), ` +
        `retrying in ${delay} ms: ${lastError}`,
    );
    const moved = await this.republish(
      message,
      channel,
      retryQueueOf(this.options.queue.name, delay),
      { 'x-attempt': attempt + 1, 'x-last-error': lastError },
    );
    if (moved) this.count(event.type, 'retried');
  }

  private async deadLetter(
    message: ConsumeMessage,
    channel: ConfirmChannel,
    reason: string,
    detail: string,
    attempts: number,
    /** Its type, once validated: a message that failed validation may claim any. */
    type = 'unknown',
  ): Promise<void> {
    this.log.error(
      `Dead-lettering ${message.properties.type ?? 'message'} ${message.properties.messageId ?? ''} ` +
        `from ${this.options.queue.name}: ${reason}: ${detail}`,
    );
    const moved = await this.republish(
      message,
      channel,
      deadLetterQueueOf(this.options.queue.name),
      {
        'x-death-reason': reason,
        'x-last-error': detail.slice(0, 1000),
        'x-attempts': attempts,
        'x-original-queue': this.options.queue.name,
        'x-dead-lettered-at': new Date().toISOString(),
      },
    );
    if (moved) this.count(type, 'dead_lettered');
  }

  /**
   * Puts a copy on another queue and acknowledges the original once the broker has confirmed the
   * copy: at worst a crash in between delivers the message twice, never zero times. A copy that
   * is not confirmed sends the original back to its queue, to be handled again. Returns whether
   * the copy was confirmed.
   */
  private async republish(
    message: ConsumeMessage,
    channel: ConfirmChannel,
    queue: string,
    headers: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await publishConfirmed(
        channel,
        redeliveryExchangeOf(this.options.queue.name),
        queue,
        message.content,
        {
          ...message.properties,
          persistent: true,
          headers: { ...message.properties.headers, ...headers },
        },
      );
    } catch (error) {
      this.log.error(
        `Could not move a message to ${queue}: ${(error as Error).message}; returning it to its queue`,
      );
      // A short pause, so that a broker refusing every copy is not asked again in a tight loop.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (this.isOpen(channel)) {
        this.unsettledOf(channel).settle([message.fields.deliveryTag]);
        channel.nack(message, false, true);
      }
      return false;
    }
    this.ack({ message, channel });
    return true;
  }

  /**
   * Whether a delivery's channel is still open, so its tag still means that delivery. Not the
   * managed channel's `current`, which is set only once set-up is done: the first deliveries come
   * during set-up.
   */
  private isOpen(channel: ConfirmChannel): boolean {
    return !this.closedChannels.has(channel);
  }

  private ack(delivery: Pick<Delivery, 'message' | 'channel'>): void {
    this.ackAll([delivery]);
  }

  /**
   * Acknowledges deliveries, with one `multiple` ack per channel where that covers no other
   * unsettled delivery (UnsettledDeliveries), else one by one. On a channel closed since, a
   * delivery tag means nothing: the broker has already put the message back for redelivery, and
   * the inbox will recognise it.
   */
  private ackAll(deliveries: readonly Pick<Delivery, 'message' | 'channel'>[]): void {
    const byChannel = new Map<ConfirmChannel, ConsumeMessage[]>();
    for (const { message, channel } of deliveries) {
      if (this.isOpen(channel))
        byChannel.set(channel, [...(byChannel.get(channel) ?? []), message]);
    }
    for (const [channel, messages] of byChannel) {
      const acks = this.unsettledOf(channel).settle(messages.map((m) => m.fields.deliveryTag));
      if ('upTo' in acks) {
        channel.ack(
          messages.find((m) => m.fields.deliveryTag === acks.upTo)!,
          true,
        );
      } else {
        for (const message of messages) channel.ack(message);
      }
    }
  }

  private unsettledOf(channel: ConfirmChannel): UnsettledDeliveries {
    let unsettled = this.unsettled.get(channel);
    if (!unsettled) this.unsettled.set(channel, (unsettled = new UnsettledDeliveries()));
    return unsettled;
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
    clearTimeout(this.lingering);
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
