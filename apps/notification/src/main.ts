import 'reflect-metadata';
import { Queues } from '@ordering/contracts';
import { connectConsumer } from '@ordering/messaging';
import { runService } from '@ordering/platform';
import { notificationService } from './notification-service.definition.js';
import { NotificationModule } from './notification.module.js';

await runService(notificationService, NotificationModule, (app) =>
  connectConsumer(app, 'notification', Queues.notificationOrderEvents),
);
