import type { Notification } from '../notification.entity.js';

/** How a notification reaches the customer. A failed delivery throws; it is retried later. */
export abstract class DeliveryChannel {
  abstract readonly name: string;
  abstract deliver(notification: Notification): Promise<void>;
}
