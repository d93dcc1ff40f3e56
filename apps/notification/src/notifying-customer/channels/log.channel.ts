import { Injectable, Logger } from '@nestjs/common';
import type { Delivery, DeliveryChannel } from './delivery-channel.js';

/** The default channel: the message goes to the service's structured log. */
@Injectable()
export class LogChannel implements DeliveryChannel {
  readonly name = 'log';
  private readonly logger = new Logger('Notifications');

  async deliver(notification: Delivery): Promise<void> {
    this.logger.log({
      msg: `To ${notification.recipient}: ${notification.subject}`,
      notificationId: notification.id,
      orderId: notification.orderId,
      kind: notification.kind,
      body: notification.body,
    });
  }
}
