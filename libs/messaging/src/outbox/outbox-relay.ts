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
import { DataSource } from 'typeorm';
import { MESSAGING_OPTIONS, type MessagingOptions } from '../messaging.module-definition.js';
import { publishOptions } from './publish-options.js';

interface OutboxRow {
  id: string;
  message_id: string;
  exchange: string;
  routing_key: string;
  payload: { correlationid?: string; time?: string };
  attempts: number;
}

// Earliest unsent first; an aggregate whose earlier message is waiting out a retry is held
// back, so one aggregate's messages never overtake each other.
const NEXT_BATCH = `
  SELECT id, message_id, exchange, routing_key, payload, attempts FROM outbox o
  WHERE o.sent_at IS NULL AND o.next_attempt_at <= now()
    AND NOT EXISTS (
      SELECT 1 FROM outbox earlier
      WHERE earlier.aggregate_id = o.aggregate_id AND earlier.sent_at IS NULL
        AND earlier.id < o.id AND earlier.next_attempt_at > now())
  ORDER BY o.id
  LIMIT $1`;

const LEADER_LOCK = "hashtext('ordering.outbox-relay')";
const CLEANUP_EVERY_MS = 10 * 60 * 1000;
const MAX_BACKOFF_SECONDS = 60;

/**
 * Publishes the outbox to RabbitMQ. A row is marked sent only once the broker has confirmed it
 * and not returned it as unroutable (`mandatory`). One relay per database is active at a time
 * (a session advisory lock, held on the connection that also reads and marks the rows), so
 * replicas never publish one aggregate's messages out of order; the others stand by. It wakes on
 * LISTEN/NOTIFY and polls too, so a lost notification only delays.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly channel: ChannelWrapper;
  private readonly returned = new Map<string, string>();
  private client?: pg.Client;
  private running = false;
  private leader = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private notified = false;
  private lastCleanup = 0;

  constructor(
    private readonly dataSource: DataSource,
    broker: BrokerConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    this.channel = broker.manager.createChannel({
      name: 'outbox-relay',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
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
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
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
          const published = await this.relayBatch();
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
    client.on('notification', () => {
      // Remembered when it arrives mid-batch, so the commit it announces is not left to the poll.
      if (this.wake) this.wake();
      else this.notified = true;
    });
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

  /** Publishes one batch and records the outcome of each message; returns how many went out. */
  private async relayBatch(): Promise<number> {
    const session = this.session();
    const { rows } = await session.query<OutboxRow>(NEXT_BATCH, [this.options.relayBatchSize]);
    if (rows.length === 0) return 0;

    const outcomes = await Promise.allSettled(
      rows.map((row) =>
        this.channel.publish(
          row.exchange,
          row.routing_key,
          Buffer.from(JSON.stringify(row.payload)),
          {
            ...publishOptions(row.message_id, row.routing_key, row.payload),
            mandatory: true,
            timeout: 10_000,
          },
        ),
      ),
    );
    const sent: string[] = [];
    const failed: { id: string; error: string; attempts: number }[] = [];
    rows.forEach((row, index) => {
      const outcome = outcomes[index];
      const returned = this.returned.get(row.message_id);
      this.returned.delete(row.message_id);
      if (outcome.status === 'fulfilled' && returned === undefined) sent.push(row.id);
      else {
        const error =
          returned ??
          `not confirmed: ${(outcome as PromiseRejectedResult).reason?.message ?? outcome}`;
        failed.push({ id: row.id, error, attempts: row.attempts + 1 });
      }
    });

    if (sent.length > 0) {
      await session.query(
        'UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])',
        [sent],
      );
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

  private async cleanUpNowAndThen(): Promise<void> {
    if (Date.now() - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = Date.now();
    await this.session().query(
      `DELETE FROM outbox WHERE sent_at < now() - make_interval(hours => $1)`,
      [this.options.outboxRetentionHours],
    );
  }

  /** Until a notification, the poll interval, or shutdown, whichever comes first. */
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
