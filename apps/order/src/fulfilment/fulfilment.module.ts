import { Module } from '@nestjs/common';
import { OrderingModule } from '../ordering/ordering.module.js';
import { DeadlineWatcher } from './deadline-watcher.js';
import { FulfilmentSaga } from './fulfilment-saga.js';
import { InventoryAnswersConsumer } from './inventory-answers.consumer.js';
import { OrderStreamLocks } from './order-stream-locks.js';

/** The order-fulfilment saga: the inventory's answers and the reservation deadlines. */
@Module({
  imports: [OrderingModule],
  controllers: [InventoryAnswersConsumer],
  providers: [FulfilmentSaga, DeadlineWatcher, OrderStreamLocks],
})
export class FulfilmentModule {}
