import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { BrokerConnection } from '@ordering/platform';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import pg from 'pg';
import {
  DataSource,
  type EntitySubscriberInterface,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';
import { MESSAGING_OPTIONS, type MessagingOptions } from '../messaging.module-definition.js';
import { takeOutboxWrite } from './outbox.js';
import { publishOptions } from './publish-options.js';

interface OutboxRow {
  id: string;
  message_id: string;
  exchange: string;
  routing_key: string;
  /** The stored CloudEvent as JSON text: published as it is, never parsed and re-serialised. */
  body: string;
  correlationid: string | null;
  time: string | null;
  attempts: number;
}

// Earliest unsent first, skipping the batches still awaiting their confirms (`NOT IN` a subquery
// is a hash lookup; `<> ALL` an array compared row by row); an aggregate whose earlier message
// is waiting out a retry is held back, so one aggregate's messages never overtake each other.
const NEXT_BATCH = `
  SELECT id, message_id, exchange, routing_key, payload::text AS body,
    payload->>'correlationid' AS correlationid, payload->>'time' AS time, attempts
  FROM outbox o
  WHERE o.sent_at IS NULL AND o.next_attempt_at <= now()
    AND o.id NOT IN (SELECT unnest($2::bigint[]))
    AND NOT EXISTS (
      SELECT 1 FROM outbox earlier
      WHERE earlier.aggregate_id = o.aggregate_id AND earlier.sent_at IS NULL
        AND earlier.attempts > 0 AND earlier.id < o.id AND earlier.next_attempt_at > now())
  ORDER BY o.id
  LIMIT $1`;

// Batches published and awaiting their confirms while the next one is read and published: the
// broker's confirm latency and the database round trips overlap instead of adding up.
const BATCHES_IN_FLIGHT = 3;

const LEADER_LOCK = "hashtext('ordering.outbox-relay')";
const CONFIRM_TIMEOUT_MS = 10_000;
const CHANNEL_LOST = 'channel lost';
const CLEANUP_EVERY_MS = 10 * 60 * 1000;
const MAX_BACKOFF_SECONDS = 60;

/**
 * Publishes the outbox to RabbitMQ. A row is marked sent only once the broker has confirmed it
 * and not returned it as unroutable (`mandatory`). One relay per database is active at a time
 * (a session advisory lock, held on the connection that also reads and marks the rows), so
 * replicas never publish one aggregate's messages out of order; the others stand by.
 *
 * It wakes when a transaction that wrote to the outbox commits: directly when this process
 * leads, otherwise through a NOTIFY sent after the commit, outside the transaction (inside it,
 * PostgreSQL's notification lock would serialise every commit in the database). It polls too, so
 * a lost wake-up, or a write from a process without a relay, only waits for the poll.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly channel: ChannelWrapper;
  private readonly returned = new Map<string, string>();
  private confirmChannel?: ConfirmChannel;
  private stop!: () => void;
  private readonly stopping = new Promise<void>((resolve) => (this.stop = resolve));
  private client?: pg.Client;
  private running = false;
  private leader = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private notified = false;
  private notifying = false;
  private notifyAgain = false;
  private lastCleanup = 0;
  private readonly commitListener: EntitySubscriberInterface = {
    // TypeORM calls this for every commit, savepoint releases included: only a real end counts.
    afterTransactionCommit: ({ queryRunner }: TransactionCommitEvent) => {
      if (!queryRunner.isTransactionActive && takeOutboxWrite(queryRunner)) this.announce();
    },
    afterTransactionRollback: ({ queryRunner }: TransactionRollbackEvent) => {
      if (!queryRunner.isTransactionActive) takeOutboxWrite(queryRunner);
    },
  };

  constructor(
    private readonly dataSource: DataSource,
    broker: BrokerConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    this.channel = broker.manager.createChannel({
      name: 'outbox-relay',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        // Published on directly: the wrapper's queue, promise and timer per message cost the
        // relay more than the publishing itself. The wrapper still reconnects and re-runs this.
        this.confirmChannel = channel;
        channel.on('close', () => {
          if (this.confirmChannel === channel) this.confirmChannel = undefined;
        });
        channel.on('return', (message: ConsumeMessage) =>
          this.returned.set(
            String(message.properties.messageId),
            `unroutable: no queue is bound to ${message.fields.exchange} for ${message.fields.routingKey}`,
          ),
        );
      },
    });
    // A channel error is followed by a reconnect; unheard, the event would crash the process.
    this.channel.on('error', (error: Error) =>
      this.logger.warn(`Outbox relay channel: ${error.message}`),
    );
  }

  get isLeader(): boolean {
    return this.leader;
  }

  onApplicationBootstrap(): void {
    this.dataSource.subscribers.push(this.commitListener);
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    const subscribers = this.dataSource.subscribers;
    if (subscribers.includes(this.commitListener)) {
      subscribers.splice(subscribers.indexOf(this.commitListener), 1);
    }
    this.running = false;
    this.stop();
    this.wake?.();
    await this.loop;
    await this.channel.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.connect();
        while (this.running) {
          if (!this.leader) {
            this.leader = await this.tryToLead();
            if (!this.leader) {
              await this.idle();
              continue;
            }
            this.logger.log('Relaying the outbox');
          }
          const published = await this.relayBatches();
          await this.cleanUpNowAndThen();
          if (published === 0) await this.idle();
        }
      } catch (error) {
        this.logger.warn(`Outbox relay interrupted: ${(error as Error).message}; retrying`);
        await this.disconnect();
        await this.idle();
      }
    }
    await this.disconnect();
  }

  private async connect(): Promise<void> {
    if (this.client) return;
    const client = new pg.Client({
      connectionString: (this.dataSource.options as { url: string }).url,
      application_name: 'outbox-relay',
    });
    client.on('notification', () => this.wakeUp());
    // A broken session ends leadership: the lock goes with it, and the loop reconnects.
    client.on('error', (error) => this.logger.warn(`Outbox relay session lost: ${error.message}`));
    client.on('end', () => {
      if (this.client === client) {
        this.client = undefined;
        this.leader = false;
        this.wake?.();
      }
    });
    await client.connect();
    await client.query('LISTEN outbox');
    this.client = client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.leader = false;
    await client?.end().catch(() => undefined);
  }

  private async tryToLead(): Promise<boolean> {
    const { rows } = await this.session().query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(${LEADER_LOCK}) AS locked`,
    );
    return rows[0].locked;
  }

  private session(): pg.Client {
    if (!this.client) throw new Error('the relay has no database session');
    return this.client;
  }

  /**
   * Keeps up to `BATCHES_IN_FLIGHT` batches published and awaiting confirms, recording each
   * batch's outcome in order as it completes; returns how many rows went out (0: caught up).
   */
  private async relayBatches(): Promise<number> {
    const session = this.session();
    const inFlight: { ids: string[]; outcome: Promise<number> }[] = [];
    let relayed = 0;
    let caughtUp = false;
    try {
      while (this.running && this.leader) {
        while (!caughtUp && inFlight.length < BATCHES_IN_FLIGHT) {
          const publishing = inFlight.flatMap((batch) => batch.ids);
          const { rows } = await session.query<OutboxRow>({
            name: 'outbox-next-batch',
            text: NEXT_BATCH,
            values: [this.options.relayBatchSize, publishing],
          });
          caughtUp = rows.length < this.options.relayBatchSize;
          if (rows.length > 0) {
            inFlight.push({ ids: rows.map((row) => row.id), outcome: this.publish(rows) });
          }
        }
        const oldest = inFlight.shift();
        if (!oldest) break;
        relayed += await oldest.outcome;
        // The channel dropped: what is left goes out once it is back; until then, idle.
        if (!this.confirmChannel) break;
        // Caught up: drain what is in flight, then let the caller idle until there is more.
        if (caughtUp && inFlight.length === 0) break;
      }
    } finally {
      // Interrupted (a lost session or channel): the rest still gets its outcome settled, so no
      // promise is left unhandled; rows not marked sent are simply published again later.
      await Promise.allSettled(inFlight.map((batch) => batch.outcome));
    }
    return relayed;
  }

  /** Publishes one batch and records the outcome of each message; resolves to how many went out. */
  private async publish(rows: OutboxRow[]): Promise<number> {
    const outcomes = await this.publishAndConfirm(rows);
    const session = this.session();
    const sent: string[] = [];
    const failed: { id: string; error: string; attempts: number }[] = [];
    rows.forEach((row, index) => {
      const outcome = outcomes[index];
      const returned = this.returned.get(row.message_id);
      this.returned.delete(row.message_id);
      if (outcome === CHANNEL_LOST) return;
      if (outcome === null && returned === undefined) sent.push(row.id);
      else failed.push({ id: row.id, error: returned ?? outcome!, attempts: row.attempts + 1 });
    });

    if (sent.length > 0) {
      await session.query({
        name: 'outbox-mark-sent',
        text: 'UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])',
        values: [sent],
      });
    }
    if (failed.length > 0) {
      for (const failure of failed) {
        this.logger.error(`Outbox message ${failure.id} not published: ${failure.error}`);
      }
      await session.query(
        `UPDATE outbox o SET attempts = f.attempts, last_error = f.error,
           next_attempt_at = now() + make_interval(secs => least(power(2, f.attempts), $2))
         FROM unnest($1::bigint[], $3::text[], $4::int[]) AS f(id, error, attempts)
         WHERE o.id = f.id`,
        [
          failed.map((f) => f.id),
          MAX_BACKOFF_SECONDS,
          failed.map((f) => f.error),
          failed.map((f) => f.attempts),
        ],
      );
    }
    return sent.length;
  }

  /**
   * Each row's outcome: null when confirmed, the reason when nacked or not confirmed in time, or
   * CHANNEL_LOST when the connection dropped first: not the message's fault, so it stays unsent
   * and goes out as soon as the channel is back, with no backoff.
   */
  private async publishAndConfirm(rows: OutboxRow[]): Promise<(string | null)[]> {
    // While the broker is away there is nothing to do but wait for it (or for shutdown).
    await Promise.race([this.channel.waitForConnect(), this.stopping]);
    const channel = this.confirmChannel;
    if (!channel) return rows.map(() => CHANNEL_LOST);
    return new Promise((resolve) => {
      const outcomes: (string | null | undefined)[] = new Array(rows.length);
      let pending = rows.length;
      const settle = (index: number, outcome: string | null) => {
        if (outcomes[index] !== undefined) return;
        outcomes[index] = outcome;
        if (--pending === 0) {
          clearTimeout(timer);
          resolve(outcomes as (string | null)[]);
        }
      };
      const timer = setTimeout(() => {
        rows.forEach((_, index) => settle(index, `not confirmed within ${CONFIRM_TIMEOUT_MS} ms`));
      }, CONFIRM_TIMEOUT_MS);
      rows.forEach((row, index) => {
        try {
          channel.publish(
            row.exchange,
            row.routing_key,
            Buffer.from(row.body),
            {
              ...publishOptions(row.message_id, row.routing_key, {
                correlationid: row.correlationid ?? undefined,
                time: row.time ?? undefined,
              }),
              mandatory: true,
            },
            (error) => {
              if (error === null || error === undefined) return settle(index, null);
              // amqplib fails what is unconfirmed with "channel closed" when the channel goes.
              const lost = error.message === 'channel closed' || this.confirmChannel !== channel;
              settle(index, lost ? CHANNEL_LOST : `not confirmed: ${error.message}`);
            },
          );
        } catch {
          // Closed under us (publish throws on a closed channel).
          settle(index, CHANNEL_LOST);
        }
      });
    });
  }

  private async cleanUpNowAndThen(): Promise<void> {
    if (Date.now() - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = Date.now();
    await this.session().query(
      // Ids grow with time: everything old enough is below the first id created since the
      // cut-off, a range of the primary key (sent_at has no index, to keep marking rows cheap).
      `DELETE FROM outbox
       WHERE id < coalesce(
           (SELECT min(id) FROM outbox WHERE created_at >= now() - make_interval(hours => $1)),
           (SELECT max(id) + 1 FROM outbox))
         AND sent_at < now() - make_interval(hours => $1)`,
      [this.options.outboxRetentionHours],
    );
  }

  /** New messages have been committed in this process: wake whichever relay leads. */
  private announce(): void {
    if (this.leader) return this.wakeUp();
    // One NOTIFY at a time: the commits made while it is on its way share the next one.
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.dataSource
      .query("SELECT pg_notify('outbox', '')")
      .catch((error: Error) => this.logger.warn(`Could not notify the relay: ${error.message}`))
      .finally(() => {
        this.notifying = false;
        if (this.notifyAgain) {
          this.notifyAgain = false;
          this.announce();
        }
      });
  }

  private wakeUp(): void {
    // Remembered when it comes mid-batch, so the commit it announces is not left to the poll.
    if (this.wake) this.wake();
    else this.notified = true;
  }

  /** Until a wake-up, the poll interval, or shutdown, whichever comes first. */
  private idle(): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), this.options.relayPollIntervalMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
