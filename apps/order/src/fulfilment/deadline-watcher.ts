import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PeriodicTask } from '@ordering/platform';
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
  private readonly task = new PeriodicTask('Reservation deadlines', CHECK_EVERY_MS, () =>
    this.fireDue(),
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly saga: FulfilmentSaga,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
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
