import { Controller } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventPattern, Payload } from '@nestjs/microservices';
import type {
  CloudEvent,
  OrderCancelledV1,
  OrderConfirmedV1,
  OrderRejectedV1,
} from '@ordering/contracts';
import type { MessageEffect } from '@ordering/messaging';
import { deterministicUuid } from '@ordering/platform';
import type { NotificationEnvironment } from '../notification.environment.js';
import { DeliveryChannel } from './channels/delivery-channel.js';
import { renderNotification, type NotificationKind } from './domain/notification-message.js';
import { OrderApiClient } from './order-api.client.js';

/**
 * Records one notification per order event, rendered from the order's details. Those are asked
 * of the order API before the consumer's transaction begins: no connection or lock is held while
 * another service answers. The notification is delivered afterwards by the DeliveryWorker, so a
 * slow or failing channel never holds a message back.
 */
@Controller()
export class OrderLifecycleConsumer {
  private readonly emailDomain: string;

  constructor(
    private readonly orders: OrderApiClient,
    private readonly channel: DeliveryChannel,
    config: ConfigService<NotificationEnvironment, true>,
  ) {
    this.emailDomain = config.get('NOTIFICATION_EMAIL_DOMAIN', { infer: true });
  }

  @EventPattern<string>('order.confirmed')
  confirmed(@Payload() event: CloudEvent<OrderConfirmedV1>) {
    return this.record('ORDER_CONFIRMED', event);
  }

  @EventPattern<string>('order.rejected')
  rejected(@Payload() event: CloudEvent<OrderRejectedV1>) {
    return this.record('ORDER_REJECTED', event);
  }

  @EventPattern<string>('order.cancelled')
  cancelled(@Payload() event: CloudEvent<OrderCancelledV1>) {
    return this.record('ORDER_CANCELLED', event);
  }

  private async record(
    kind: NotificationKind,
    event: CloudEvent<{ orderId: string; reason?: string }>,
  ): Promise<MessageEffect> {
    const order = await this.orders.order(event.data.orderId, event.correlationid);
    // The event's reason is the one this notification is about, whatever happened since.
    const message = renderNotification(kind, {
      ...order,
      reason: event.data.reason ?? order.reason,
    });
    const recipient = order.customerId.includes('@')
      ? order.customerId
      : `${order.customerId}@${this.emailDomain}`;
    return async (tx) => {
      await tx.query(
        `INSERT INTO notifications
           (id, event_id, order_id, customer_id, kind, channel, recipient, subject, body, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'PENDING')
         ON CONFLICT (event_id) DO NOTHING`,
        [
          deterministicUuid(`notification:${event.id}`),
          event.id,
          order.orderId,
          order.customerId,
          kind,
          this.channel.name,
          recipient,
          message.subject,
          message.body,
        ],
      );
    };
  }
}
