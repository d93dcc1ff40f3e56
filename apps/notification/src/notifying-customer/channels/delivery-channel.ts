import type { Notification } from '../notification.entity.js';

/** What a channel needs of a notification to deliver it. */
export type Delivery = Pick<
  Notification,
  'id' | 'orderId' | 'kind' | 'recipient' | 'subject' | 'body'
>;

/** How a notification reaches the customer. A failed delivery throws; it is retried later. */
export abstract class DeliveryChannel {
  abstract readonly name: string;
  abstract deliver(notification: Delivery): Promise<void>;
}
