import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  currentTraceparent,
  Database,
  isTransient,
  PeriodicTask,
  readOnScrape,
  runInSpan,
  SpanKind,
  startSpan,
} from '@ordering/platform';
import { FulfilmentPolicy } from './fulfilment-policy.js';

const CHECK_EVERY_MS = 500;
const BATCH = 100;
const MAX_BACKOFF_SECONDS = 60;

/**
 * Fires the saga's deadlines that have passed, each in a transaction of its own: one that fails
 * is logged, counted on its row and tried again later with backoff, and never holds back the
 * others. A failure of the database itself is not the deadline's fault: it is simply tried again
 * at the next check. Every instance may watch: a deadline is fired by one of them, once; the
 * others skip it while it is being fired and find it gone after.
 */
@Injectable()
export class DeadlineWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeadlineWatcher.name);
  private removeMetrics?: () => void;
  private readonly task = new PeriodicTask('Reservation deadlines', CHECK_EVERY_MS, () =>
    this.fireDue(),
  );

  constructor(
    private readonly database: Database,
    private readonly policy: FulfilmentPolicy,
  ) {}

  onApplicationBootstrap(): void {
    this.removeMetrics = readOnScrape(
      'reservation_deadlines',
      'Reservation deadlines of orders still PENDING, by state: pending (not due yet) or overdue.',
      ['state'],
      async (gauge) => {
        const [row] = await this.database.query<{ pending: number; overdue: number }>(
          `SELECT count(*) FILTER (WHERE due_at > now())::int AS pending,
                  count(*) FILTER (WHERE due_at <= now())::int AS overdue
           FROM reservation_deadlines`,
        );
        gauge.set({ state: 'pending' }, row.pending);
        gauge.set({ state: 'overdue' }, row.overdue);
      },
    );
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    this.removeMetrics?.();
    return this.task.stop();
  }

  /** Fires every deadline due now; returns how many it fired. */
  async fireDue(): Promise<number> {
    const due = await this.database.query<{ order_id: string; traceparent: string | null }>(
      `SELECT order_id, traceparent FROM reservation_deadlines WHERE due_at <= now()
       ORDER BY due_at LIMIT $1`,
      [BATCH],
    );
    let fired = 0;
    for (const { order_id: orderId, traceparent } of due) {
      try {
        const span = startSpan('fire reservation deadline', {
          kind: SpanKind.INTERNAL,
          parent: traceparent ?? undefined,
          attributes: { 'ordering.order.id': orderId },
        });
        if (await runInSpan(span, () => this.fire(orderId))) fired++;
      } catch (error) {
        await this.postpone(orderId, error as Error);
      }
    }
    return fired;
  }

  private fire(orderId: string): Promise<boolean> {
    // In the trace of the order's placement: the deadline's span, when tracing.
    const traceparent = currentTraceparent();
    return this.database.transaction(
      async (tx) => {
        // Another instance firing it holds this until it commits: skip it rather than wait. Not
        // `FOR UPDATE SKIP LOCKED` on the row: a row lock would take the transaction id before the
        // append's stream-head write, and readAll orders each stream by transaction ids.
        const [{ mine }] = await tx.query<{ mine: boolean }>(
          "SELECT pg_try_advisory_xact_lock(hashtext('reservation-deadline:' || $1::text)) AS mine",
          [orderId],
        );
        if (!mine) return false;
        // Read after the lock (a new snapshot): an instance that fired it and let go has deleted it.
        const [{ due }] = await tx.query<{ due: boolean }>(
          'SELECT EXISTS (SELECT FROM reservation_deadlines WHERE order_id = $1 AND due_at <= now()) AS due',
          [orderId],
        );
        if (!due) return false;
        const decided = await this.policy.handle(
          orderId,
          { type: 'ReservationDeadlinePassed' },
          {
            correlationId: orderId,
            causationId: `deadline:${orderId}`,
            userId: 'fulfilment-saga',
            traceparent,
          },
          tx,
        );
        // The order had left PENDING already: the deadline is moot (the append removes it otherwise).
        if (decided.length === 0) {
          await tx.query('DELETE FROM reservation_deadlines WHERE order_id = $1', [orderId]);
        }
        return true;
      },
      { label: 'reservation deadline' },
    );
  }

  private async postpone(orderId: string, error: Error): Promise<void> {
    if (isTransient(error)) {
      this.logger.warn(`Reservation deadline of order ${orderId}: ${error.message}; retrying`);
      return;
    }
    try {
      const [row] = await this.database.query<{ attempts: number }>(
        `UPDATE reservation_deadlines SET attempts = attempts + 1, last_error = $2,
           due_at = now() + make_interval(secs => least(power(2, attempts + 1), $3))
         WHERE order_id = $1 RETURNING attempts`,
        [orderId, `${error.name}: ${error.message}`.slice(0, 1000), MAX_BACKOFF_SECONDS],
      );
      this.logger.error(
        `Reservation deadline of order ${orderId} failed (attempt ${row?.attempts ?? '?'}), ` +
          `trying again later: ${error.message}`,
      );
    } catch (postponing) {
      this.logger.warn(
        `Reservation deadline of order ${orderId} failed (${error.message}) and could not be ` +
          `postponed (${(postponing as Error).message}); retrying at the next check`,
      );
    }
  }
}
