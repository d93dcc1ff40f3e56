import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FulfilmentSaga } from './fulfilment-saga.js';

const CHECK_EVERY_MS = 500;
const BATCH = 100;

/**
 * Fires the saga's deadlines that have passed. Every instance may watch: a deadline handled twice
 * decides nothing the second time, since the order is no longer pending.
 */
@Injectable()
export class DeadlineWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeadlineWatcher.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly saga: FulfilmentSaga,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.fireDue()
        .catch((error: Error) => this.logger.warn(`Deadlines not checked: ${error.message}`))
        .finally(() => (this.running = undefined));
    }, CHECK_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async fireDue(): Promise<void> {
    const due: { order_id: string }[] = await this.dataSource.query(
      `SELECT order_id FROM reservation_deadlines WHERE due_at <= now() ORDER BY due_at LIMIT $1`,
      [BATCH],
    );
    for (const { order_id: orderId } of due) {
      await this.saga.handle(
        orderId,
        { type: 'ReservationDeadlinePassed' },
        { correlationId: orderId, causationId: `deadline:${orderId}`, userId: 'fulfilment-saga' },
      );
    }
  }
}
