import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  Database,
  PeriodicTask,
  readOnScrape,
  runInSpan,
  SpanKind,
  startSpan,
} from '@ordering/platform';
import { Counter } from 'prom-client';
import { DeliveryChannel } from './channels/delivery-channel.js';
import type { Notification } from './notification.entity.js';

const deliveries = new Counter({
  name: 'notification_deliveries_total',
  help: 'Attempts to deliver a notification, by outcome (sent or failed, to be tried again).',
  labelNames: ['outcome'] as const,
});

const CHECK_EVERY_MS = 250;
const BATCH = 100;
const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_SECONDS = 300;
/**
 * How long a claimed notification is left to the worker sending it before another may. A
 * notification is recorded already claimed by the worker of the process that records it (see
 * take), so this is also how long one waits when its process dies before sending it.
 */
export const LEASE_SECONDS = 60;
const RECORD_RETRY_MS = [100, 250, 500, 1000, 2000, 5000];

// The statements below are planned for their values (QueryOptions): the notifications table
// starts empty and grows with every order, and a plan a connection made while it was small scans
// all of it.
const GROWING = { plan: 'per-execution' } as const;

// Claims due notifications in one statement: each is taken by one worker (replicas skip what is
// locked) and leased, so none is sent by two at once and a worker that dies leaves it to another.
const CLAIM_DUE = `
  UPDATE notifications n
  SET attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
  FROM (SELECT id FROM notifications
        WHERE status = 'PENDING' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
  WHERE n.id = due.id
  RETURNING n.id, n.order_id, n.kind, n.recipient, n.subject, n.body, n.attempts, n.traceparent`;

const MARK_SENT = `
  UPDATE notifications SET status = 'SENT', sent_at = now(), last_error = NULL
  WHERE id = ANY($1::uuid[])`;

const MARK_FAILED = `
  UPDATE notifications n
  SET status = CASE WHEN n.attempts >= $2 THEN 'FAILED' ELSE 'PENDING' END,
    last_error = f.error, next_attempt_at = now() + make_interval(secs => least(power(2, n.attempts), $3))
  FROM unnest($1::uuid[], $4::text[]) AS f(id, error)
  WHERE n.id = f.id`;

export type Claimed = Pick<
  Notification,
  'id' | 'orderId' | 'kind' | 'recipient' | 'subject' | 'body' | 'traceparent'
> & { attempts: number };

/**
 * Delivers recorded notifications, outside any transaction, and records each outcome.
 *
 * A notification is recorded already claimed for its first attempt (attempts 1, leased for
 * LEASE_SECONDS), and handed to this worker once its transaction has committed (take): it is
 * sent at once, with no statement to claim it. The poll claims (and leases) what is due besides:
 * a failed delivery's next attempt, with backoff up to MAX_ATTEMPTS, and what another process
 * had claimed and did not record, once its lease has run out. Recording "sent" is retried until it
 * succeeds, so a database that fails after a send does not send it again; only a crash between
 * the two does, once the lease has run out, and SMTP messages carry a stable Message-ID for that
 * case.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private removeMetrics?: () => void;
  private readonly task = new PeriodicTask('Notification deliveries', CHECK_EVERY_MS, () =>
    this.deliverDue(),
  );
  private stopping = false;
  /** Handed over by the transactions that recorded them, to be sent by drain. */
  private readonly handedOver: Claimed[] = [];
  private draining?: Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly channel: DeliveryChannel,
  ) {}

  onApplicationBootstrap(): void {
    this.removeMetrics = readOnScrape(
      'notifications_pending',
      'Notifications waiting to be delivered (a first time, or again after a failure).',
      [],
      async (gauge) => {
        const [{ pending }] = await this.database.query<{ pending: number }>(
          "SELECT count(*)::int AS pending FROM notifications WHERE status = 'PENDING'",
        );
        gauge.set(pending);
      },
    );
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.removeMetrics?.();
    this.stopping = true;
    await this.task.stop();
    // What was handed over is sent before the service goes, not left to wait out its lease.
    while (this.draining) await this.draining;
  }

  /**
   * Sends notifications recorded as claimed by this worker (attempts 1, leased), in the order
   * given: call it once the transaction that recorded them has committed.
   */
  take(notifications: readonly Claimed[]): void {
    if (notifications.length === 0) return;
    this.handedOver.push(...notifications);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (this.handedOver.length > 0) {
      await this.deliver(this.handedOver.splice(0, BATCH)).catch((error: Error) =>
        // Still leased to this worker: the poll sends them once the lease has run out.
        this.logger.error(`Could not record deliveries: ${error.message}`),
      );
    }
  }

  /** Delivers everything due; returns how many deliveries it attempted. */
  async deliverDue(): Promise<number> {
    let attempted = 0;
    for (;;) {
      const due = await this.claim();
      attempted += due.length;
      await this.deliver(due);
      if (due.length < BATCH || this.stopping) return attempted;
    }
  }

  /** Sends claimed notifications one by one, then records the outcomes in a statement each. */
  private async deliver(claimed: readonly Claimed[]): Promise<void> {
    const sent: string[] = [];
    const failed: { id: string; error: string }[] = [];
    for (const notification of claimed) {
      try {
        await runInSpan(this.deliverySpan(notification), () => this.channel.deliver(notification));
        sent.push(notification.id);
      } catch (error) {
        const message = (error as Error).message;
        this.logger.warn(
          `Notification ${notification.id} not delivered (attempt ${notification.attempts}): ${message}`,
        );
        failed.push({ id: notification.id, error: message.slice(0, 1000) });
      }
    }
    deliveries.inc({ outcome: 'sent' }, sent.length);
    deliveries.inc({ outcome: 'failed' }, failed.length);
    if (sent.length > 0) await this.recordRetrying(MARK_SENT, [sent]);
    if (failed.length > 0) {
      await this.recordRetrying(MARK_FAILED, [
        failed.map((f) => f.id),
        MAX_ATTEMPTS,
        MAX_BACKOFF_SECONDS,
        failed.map((f) => f.error),
      ]);
    }
  }

  private async claim(): Promise<Claimed[]> {
    const rows = await this.database.query<{
      id: string;
      order_id: string;
      kind: Notification['kind'];
      recipient: string;
      subject: string;
      body: string;
      attempts: number;
      traceparent: string | null;
    }>(CLAIM_DUE, [BATCH, LEASE_SECONDS], GROWING);
    return rows.map((row) => ({
      id: row.id,
      orderId: row.order_id,
      kind: row.kind,
      recipient: row.recipient,
      subject: row.subject,
      body: row.body,
      attempts: row.attempts,
      traceparent: row.traceparent,
    }));
  }

  /** A delivery, in the trace of the order event that recorded the notification. */
  private deliverySpan(notification: Claimed) {
    return startSpan(`deliver ${this.channel.name}`, {
      kind: SpanKind.CLIENT,
      parent: notification.traceparent ?? undefined,
      attributes: {
        'ordering.notification.id': notification.id,
        'ordering.notification.kind': notification.kind,
        'ordering.delivery.attempt': notification.attempts,
      },
    });
  }

  /** What was sent must be recorded as sent: tried again until it is, unless stopping. */
  private async recordRetrying(text: string, values: unknown[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.database.query(text, values, GROWING);
        return;
      } catch (error) {
        if (attempt >= RECORD_RETRY_MS.length && this.stopping) throw error;
        const pause = RECORD_RETRY_MS[Math.min(attempt, RECORD_RETRY_MS.length - 1)];
        this.logger.warn(
          `Could not record deliveries (${(error as Error).message}); trying again in ${pause} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}
