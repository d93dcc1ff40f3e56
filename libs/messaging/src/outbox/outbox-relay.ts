import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { BrokerConnection, Database, PeriodicTask, readOnScrape } from '@ordering/platform';
import { MESSAGING_OPTIONS, type MessagingOptions } from '../messaging.module-definition.js';
import { CHANNEL_LOST, OutboxPublisher, type Outcome, type OutboxRow } from './outbox-publisher.js';
import { WROTE_TO_OUTBOX } from './outbox.js';
import { RelayLeadership } from './relay-leadership.js';

// Earliest unsent first. An aggregate with a message still awaiting its confirm is skipped, and
// so is one whose earlier message is waiting out a retry: one aggregate's messages are published
// one at a time, each only once the one before it is confirmed, so they can never overtake each
// other, whichever of them the broker refuses.
const UNSENT = `
  SELECT id, message_id, exchange, routing_key, aggregate_id, payload::text AS body,
    payload->>'correlationid' AS correlationid, payload->>'time' AS time,
    payload->>'traceparent' AS traceparent, attempts
  FROM outbox o
  WHERE o.sent_at IS NULL AND o.next_attempt_at <= now()
    AND o.aggregate_id NOT IN (SELECT unnest($2::text[]))
    AND NOT EXISTS (
      SELECT 1 FROM outbox earlier
      WHERE earlier.aggregate_id = o.aggregate_id AND earlier.sent_at IS NULL
        AND earlier.attempts > 0 AND earlier.id < o.id AND earlier.next_attempt_at > now())`;

const NEXT_BATCH = `${UNSENT} ORDER BY o.id LIMIT $1`;

// The same read, marking sent the rows confirmed since the last one ($3): while the relay is
// busy, marks cost no statement of their own. Its snapshot still shows them unsent, hence `<> ALL`.
const MARK_SENT_AND_READ_NEXT = `
  WITH marked AS (
    UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($3::bigint[])
  )
  ${UNSENT} AND o.id <> ALL($3::bigint[]) ORDER BY o.id LIMIT $1`;

const MARK_SENT =
  'UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])';

const MARK_FAILED = `
  UPDATE outbox o SET attempts = f.attempts, last_error = f.error,
    next_attempt_at = now() + make_interval(secs => least(power(2, f.attempts), $2))
  FROM unnest($1::bigint[], $3::text[], $4::int[]) AS f(id, error, attempts)
  WHERE o.id = f.id`;

// Ids grow with time: everything old enough is below the first id created since the cut-off, a
// range of the primary key (sent_at has no index, to keep marking rows cheap).
const CLEAN_UP = `
  DELETE FROM outbox
  WHERE id < coalesce(
      (SELECT min(id) FROM outbox WHERE created_at >= now() - make_interval(hours => $1)),
      (SELECT max(id) + 1 FROM outbox))
    AND sent_at < now() - make_interval(hours => $1)`;

// Batches published and awaiting their confirms while the next one is read and published: the
// broker's confirm latency and the database round trips overlap instead of adding up.
const BATCHES_IN_FLIGHT = 3;
const CLEANUP_EVERY_MS = 10 * 60 * 1000;
const MAX_BACKOFF_SECONDS = 60;

/**
 * Publishes the outbox to RabbitMQ: the leader (RelayLeadership) reads unsent rows, the
 * publisher sends them, and a row is marked sent once the broker has confirmed it. A row the
 * broker refused is tried again with backoff, holding back only its own aggregate's later rows.
 *
 * It wakes when a transaction that wrote to the outbox commits: directly when this process
 * leads, otherwise through a NOTIFY sent after the commit, outside the transaction (inside it,
 * PostgreSQL's notification lock would serialise every commit in the database). It polls too, so
 * a lost wake-up, or a write from a process without a relay, only waits for the poll.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly leadership: RelayLeadership;
  private readonly publisher: OutboxPublisher;
  private readonly cleanup: PeriodicTask;
  private stop!: () => void;
  private readonly stopping = new Promise<void>((resolve) => (this.stop = resolve));
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private notified = false;
  private notifying = false;
  private notifyAgain = false;
  private stopListening?: () => void;
  /** Rows the broker has confirmed, to be marked sent by the next read or, idle, on their own. */
  private unmarked: string[] = [];
  private removeMetrics: (() => void)[] = [];

  constructor(
    private readonly database: Database,
    broker: BrokerConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {
    this.leadership = new RelayLeadership(database, () => this.wakeUp());
    this.publisher = new OutboxPublisher(broker);
    this.cleanup = new PeriodicTask('Outbox clean-up', CLEANUP_EVERY_MS, () => this.cleanUp());
  }

  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  onApplicationBootstrap(): void {
    this.removeMetrics = [
      readOnScrape(
        'outbox_unsent_messages',
        'Outbox rows committed and not yet published.',
        [],
        async (gauge) => {
          const [{ unsent }] = await this.database.query<{ unsent: number }>(
            'SELECT count(*)::int AS unsent FROM outbox WHERE sent_at IS NULL',
          );
          gauge.set(unsent);
        },
      ),
      readOnScrape(
        'outbox_oldest_unsent_age_seconds',
        'How long the oldest unsent outbox row has waited: how far behind the relay is.',
        [],
        async (gauge) => {
          const [oldest] = await this.database.query<{ age: number }>(
            `SELECT extract(epoch FROM now() - created_at)::float8 AS age FROM outbox
           WHERE sent_at IS NULL ORDER BY id LIMIT 1`,
          );
          gauge.set(oldest?.age ?? 0);
        },
      ),
      readOnScrape(
        'outbox_relay_leader',
        '1 while this instance leads the relay (publishes the outbox), 0 while it stands by.',
        [],
        (gauge) => gauge.set(this.isLeader ? 1 : 0),
      ),
    ];
    this.stopListening = this.database.onCommit((tx) => {
      if (tx.marks.has(WROTE_TO_OUTBOX)) this.announce();
    });
    this.running = true;
    this.loop = this.run();
    this.cleanup.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopListening?.();
    for (const remove of this.removeMetrics) remove();
    this.running = false;
    this.stop();
    this.wake?.();
    await this.loop;
    await this.cleanup.stop();
    await this.leadership.resign();
    await this.publisher.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const wasLeader = this.leadership.isLeader;
        if (!(await this.leadership.tryToLead())) {
          await this.idle();
          continue;
        }
        // What the last leader left to clean up is cleaned up now, not in ten minutes.
        if (!wasLeader) void this.cleanup.runNow();
        const published = await this.relayBatches();
        // The channel dropped mid-batch: on again as soon as it is back, not at the next poll.
        if (!this.publisher.isOpen) {
          await this.markSent();
          await this.publisher.whenOpen(this.stopping);
        } else if (published === 0) {
          await this.markSent();
          await this.idle();
        }
      } catch (error) {
        this.logger.warn(`Outbox relay interrupted: ${(error as Error).message}; retrying`);
        await this.leadership.resign();
        await this.markSent();
        await this.idle();
      }
    }
    await this.markSent();
  }

  /**
   * Marks sent, in a statement of their own, the confirmed rows no read has marked: before the
   * relay idles or stops. Should that fail, they are published again later (consumers
   * deduplicate on the message id), never lost.
   */
  private async markSent(): Promise<void> {
    const sent = this.unmarked.splice(0);
    if (sent.length === 0) return;
    await this.database
      .query(MARK_SENT, [sent], { plan: 'per-execution' })
      .catch((error: Error) =>
        this.logger.warn(
          `Could not mark ${sent.length} confirmed outbox rows sent (${error.message}); ` +
            'they will be published again',
        ),
      );
  }

  /**
   * Keeps up to `BATCHES_IN_FLIGHT` batches published and awaiting confirms, recording each
   * batch's outcome in order as it completes; returns how many rows went out (0: caught up).
   */
  private async relayBatches(): Promise<number> {
    const inFlight: { aggregates: string[]; outcome: Promise<number> }[] = [];
    let relayed = 0;
    let caughtUp = false;
    try {
      while (this.running && this.leadership.isLeader) {
        while (!caughtUp && inFlight.length < BATCHES_IN_FLIGHT) {
          const publishing = inFlight.flatMap((batch) => batch.aggregates);
          const marking = this.unmarked.splice(0);
          const rows = await this.readNext(publishing, marking).catch((error: unknown) => {
            this.unmarked.unshift(...marking);
            throw error;
          });
          caughtUp = rows.length < this.options.relayBatchSize;
          const batch = firstOfEachAggregate(rows);
          if (batch.length > 0) {
            inFlight.push({
              aggregates: batch.map((row) => row.aggregate_id),
              outcome: this.publishBatch(batch),
            });
          }
          if (batch.length < rows.length) caughtUp = false;
          if (batch.length === 0) break;
        }
        const oldest = inFlight.shift();
        if (!oldest) break;
        relayed += await oldest.outcome;
        // The channel dropped: what is left goes out once it is back; until then, idle.
        if (!this.publisher.isOpen) break;
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

  /** The next rows to publish, marking `marking` sent in the same statement. */
  private readNext(publishing: string[], marking: string[]): Promise<OutboxRow[]> {
    const session = this.leadership.session;
    const limit = this.options.relayBatchSize;
    return marking.length === 0
      ? session.query<OutboxRow>(NEXT_BATCH, [limit, publishing])
      : session.query<OutboxRow>(MARK_SENT_AND_READ_NEXT, [limit, publishing, marking], {
          plan: 'per-execution',
        });
  }

  /** Publishes one batch and records the outcome of each message; resolves to how many went out. */
  private async publishBatch(rows: OutboxRow[]): Promise<number> {
    // While the broker is away there is nothing to do but wait for it (or for shutdown).
    await this.publisher.whenOpen(this.stopping);
    const outcomes = await this.publisher.publish(rows);
    const sent: string[] = [];
    const failed: { id: string; error: string; attempts: number }[] = [];
    rows.forEach((row, index) => {
      const outcome: Outcome = outcomes[index];
      if (outcome === CHANNEL_LOST) return;
      if (outcome === null) sent.push(row.id);
      else failed.push({ id: row.id, error: outcome, attempts: row.attempts + 1 });
    });
    this.unmarked.push(...sent);
    const session = this.leadership.session;
    if (failed.length > 0) {
      for (const failure of failed) {
        this.logger.error(
          `Outbox message ${failure.id} not published (attempt ${failure.attempts}): ${failure.error}`,
        );
      }
      await session.query(MARK_FAILED, [
        failed.map((f) => f.id),
        MAX_BACKOFF_SECONDS,
        failed.map((f) => f.error),
        failed.map((f) => f.attempts),
      ]);
    }
    return sent.length;
  }

  private async cleanUp(): Promise<void> {
    if (!this.leadership.isLeader) return;
    await this.database.query(CLEAN_UP, [this.options.outboxRetentionHours]);
  }

  /** New messages have been committed in this process: wake whichever relay leads. */
  private announce(): void {
    if (this.leadership.isLeader) return this.wakeUp();
    // One NOTIFY at a time: the commits made while it is on its way share the next one.
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.database
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

/** Only an aggregate's earliest row goes in a batch: the next waits for its confirm. */
function firstOfEachAggregate(rows: readonly OutboxRow[]): OutboxRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    if (seen.has(row.aggregate_id)) return false;
    seen.add(row.aggregate_id);
    return true;
  });
}
