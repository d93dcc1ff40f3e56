import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PeriodicTask } from '@ordering/platform';
import { DataSource, LessThanOrEqual } from 'typeorm';
import { DeliveryChannel } from './channels/delivery-channel.js';
import { Notification } from './notification.entity.js';

const CHECK_EVERY_MS = 250;
const BATCH = 20;
const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_SECONDS = 300;

/**
 * Delivers recorded notifications. Each is locked while it is sent (replicas skip it), marked
 * SENT in the same transaction, and retried with backoff when the channel fails, up to
 * MAX_ATTEMPTS. A crash between sending and committing can resend one; SMTP messages carry a
 * stable Message-ID for that case.
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryWorker.name);
  private readonly task = new PeriodicTask('Notification deliveries', CHECK_EVERY_MS, () =>
    this.deliverDue(),
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: DeliveryChannel,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  async deliverDue(): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const due = await tx.getRepository(Notification).find({
        where: { status: 'PENDING', nextAttemptAt: LessThanOrEqual(new Date()) },
        order: { nextAttemptAt: 'ASC' },
        take: BATCH,
        lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
      });
      for (const notification of due) {
        const attempts = notification.attempts + 1;
        try {
          await this.channel.deliver(notification);
          await tx.update(Notification, notification.id, {
            status: 'SENT',
            attempts,
            sentAt: new Date(),
            lastError: null,
          });
        } catch (error) {
          const message = (error as Error).message;
          this.logger.warn(
            `Notification ${notification.id} not delivered (attempt ${attempts}): ${message}`,
          );
          await tx.update(Notification, notification.id, {
            status: attempts >= MAX_ATTEMPTS ? 'FAILED' : 'PENDING',
            attempts,
            lastError: message,
            nextAttemptAt: new Date(
              Date.now() + Math.min(2 ** attempts, MAX_BACKOFF_SECONDS) * 1000,
            ),
          });
        }
      }
      return due.length;
    });
  }
}
