import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { OrderEnvironment } from '../order.environment.js';
import { OrderStreamModule } from '../ordering/order-stream.module.js';
import { DeadlineWatcher } from './deadline-watcher.js';
import { FulfilmentPolicy } from './fulfilment-policy.js';
import { InventoryAnswersConsumer } from './inventory-answers.consumer.js';
import { OrderStreamLocks } from './order-stream-locks.js';
import {
  RESERVATION_TIMEOUT_MS,
  ReservationDeadlines,
} from './reservation-deadlines.projection.js';

/** The order-fulfilment saga: the inventory's answers and the reservation deadlines. */
@Module({
  imports: [OrderStreamModule],
  controllers: [InventoryAnswersConsumer],
  providers: [
    FulfilmentPolicy,
    DeadlineWatcher,
    OrderStreamLocks,
    ReservationDeadlines,
    {
      provide: RESERVATION_TIMEOUT_MS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderEnvironment, true>) =>
        config.get('ORDER_RESERVATION_TIMEOUT', { infer: true }) * 1000,
    },
  ],
})
export class FulfilmentModule {}
