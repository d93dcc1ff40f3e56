import 'reflect-metadata';
import { Queues } from '@ordering/contracts';
import { connectConsumer } from '@ordering/messaging';
import { runService } from '@ordering/platform';
import { OrderStreamLocks } from './fulfilment/order-stream-locks.js';
import { orderService } from './order-service.definition.js';
import { OrderModule } from './order.module.js';

await runService(orderService, OrderModule, (app) =>
  connectConsumer(app, 'order', Queues.orderInventoryEvents, OrderStreamLocks),
);
