import type { ServiceDefinition } from '@ordering/platform';
import { NotificationEnvironment } from './notification.environment.js';
import { notificationMigrations } from './migrations/index.js';

export const notificationService: ServiceDefinition<NotificationEnvironment> = {
  name: 'notification',
  environment: NotificationEnvironment,
  httpPortVariable: 'NOTIFICATION_HTTP_PORT',
  databaseUrlVariable: 'NOTIFICATION_DATABASE_URL',
  migrations: notificationMigrations,
};
