import 'reflect-metadata';
import { runService } from '@ordering/platform';
import { notificationService } from './notification-service.definition.js';
import { NotificationModule } from './notification.module.js';

await runService(notificationService, NotificationModule);
