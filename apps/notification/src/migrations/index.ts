import {
  CreateOutboxAndInbox1764300060000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
} from '@ordering/messaging';
import { CreateNotifications1764300400000 } from './1764300400000-create-notifications.js';
import { CreateOrderReplicas1764600000000 } from './1764600000000-create-order-replicas.js';
import { AddNotificationTraceparent1764700000000 } from './1764700000000-add-notification-traceparent.js';

/** Every migration of the notification database, oldest first. */
export const notificationMigrations: Function[] = [
  CreateOutboxAndInbox1764300060000,
  CreateNotifications1764300400000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
  CreateOrderReplicas1764600000000,
  AddNotificationTraceparent1764700000000,
];
