import { Controller } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventPattern, Payload } from '@nestjs/microservices';
import type {
  CloudEvent,
  OrderCancelledV1,
  OrderConfirmedV1,
  OrderPlacedV1,
  OrderRejectedV1,
} from '@ordering/contracts';
import type { MessageEffect } from '@ordering/messaging';
import { currentTraceparent, deterministicUuid, type Transaction } from '@ordering/platform';
import type { NotificationEnvironment } from '../notification.environment.js';
import { DeliveryChannel } from './channels/delivery-channel.js';
import {
  renderNotification,
  type NotificationKind,
  type OrderDetails,
} from './domain/notification-message.js';
import { DeliveryWorker, LEASE_SECONDS } from './delivery-worker.js';
import { OrderApiClient } from './order-api.client.js';
import { OrderReplicas } from './order-replicas.js';

interface PendingNotification {
  id: string;
  eventId: string;
  orderId: string;
  customerId: string;
  kind: NotificationKind;
  recipient: string;
  subject: string;
  body: string;
  traceparent?: string;
}

/**
 * Keeps a replica of every order placed, and records one notification per later order event,
 * rendered from that replica: the lifecycle events are thin triggers, and the order service is
 * asked only for an order whose `order.placed` has not been seen yet (late, or redelivered), or
 * for the short lines of a rejection for want of stock (only the order has them), and then before
 * the consumer's transaction begins: no connection or lock is held while another service answers.
 * A batch's replicas and notifications are written with one statement each. The notification is
 * delivered after the commit by the DeliveryWorker, so a slow or failing channel never holds a
 * message back.
 */
@Controller()
export class OrderLifecycleConsumer {
  private readonly emailDomain: string;

  constructor(
    private readonly replicas: OrderReplicas,
    private readonly orders: OrderApiClient,
    private readonly channel: DeliveryChannel,
    private readonly worker: DeliveryWorker,
    config: ConfigService<NotificationEnvironment, true>,
  ) {
    this.emailDomain = config.get('NOTIFICATION_EMAIL_DOMAIN', { infer: true });
  }

  @EventPattern<string>('order.placed')
  placed(@Payload() event: CloudEvent<OrderPlacedV1>): MessageEffect {
    return async (tx) => this.replicas.keep(tx, event.data);
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
    event: CloudEvent<{ orderId: string; status: string; reason?: string }>,
  ): Promise<MessageEffect> {
    const order = await this.detailsOf(kind, event);
    // The event's reason is the one this notification is about, whatever happened since.
    const message = renderNotification(kind, {
      ...order,
      reason: event.data.reason ?? order.reason,
    });
    const notification: PendingNotification = {
      id: deterministicUuid(`notification:${event.id}`),
      eventId: event.id,
      orderId: order.orderId,
      customerId: order.customerId,
      kind,
      recipient: order.customerId.includes('@')
        ? order.customerId
        : `${order.customerId}@${this.emailDomain}`,
      subject: message.subject,
      body: message.body,
      traceparent: currentTraceparent(event.traceparent),
    };
    return async (tx) => {
      tx.gather<PendingNotification>(this, (all) => this.write(tx, all)).push(notification);
    };
  }

  private async detailsOf(
    kind: NotificationKind,
    event: CloudEvent<{ orderId: string; status: string; reason?: string }>,
  ): Promise<OrderDetails> {
    const { orderId, status, reason } = event.data;
    const needsShortLines = kind === 'ORDER_REJECTED' && reason === 'OUT_OF_STOCK';
    const replica = needsShortLines ? undefined : await this.replicas.find(orderId);
    if (replica) return { ...replica, status };
    return this.orders.order(orderId, event.correlationid);
  }

  /**
   * Records the notifications claimed for their first attempt by this process's worker, which
   * sends them once the transaction has committed: no statement to claim them.
   */
  private async write(tx: Transaction, notifications: readonly PendingNotification[]) {
    const recorded = await tx.query<{ id: string }>(
      `INSERT INTO notifications
         (id, event_id, order_id, customer_id, kind, channel, recipient, subject, body,
          traceparent, status, attempts, next_attempt_at)
       SELECT n.*, 'PENDING', 1, now() + make_interval(secs => $11)
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[],
         $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS n(id, event_id, order_id, customer_id, kind, channel, recipient, subject, body,
           traceparent)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING id`,
      [
        notifications.map((n) => n.id),
        notifications.map((n) => n.eventId),
        notifications.map((n) => n.orderId),
        notifications.map((n) => n.customerId),
        notifications.map((n) => n.kind),
        notifications.map(() => this.channel.name),
        notifications.map((n) => n.recipient),
        notifications.map((n) => n.subject),
        notifications.map((n) => n.body),
        notifications.map((n) => n.traceparent ?? null),
        LEASE_SECONDS,
      ],
    );
    const ids = new Set(recorded.map((row) => row.id));
    const claimed = notifications.filter((n) => ids.has(n.id));
    tx.afterCommit(() =>
      this.worker.take(
        claimed.map((n) => ({ ...n, traceparent: n.traceparent ?? null, attempts: 1 })),
      ),
    );
  }
}
