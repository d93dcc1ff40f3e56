import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { NotificationKind } from './domain/notification-message.js';

export type NotificationStatus = 'PENDING' | 'SENT' | 'FAILED';

@Entity('notifications')
export class Notification {
  @PrimaryColumn('uuid')
  id!: string;

  /** The order event this notification answers: unique, so each event notifies once. */
  @Column('uuid', { name: 'event_id' })
  eventId!: string;

  @Column('uuid', { name: 'order_id' })
  orderId!: string;

  @Column('text', { name: 'customer_id' })
  customerId!: string;

  @Column('text')
  kind!: NotificationKind;

  @Column('text')
  channel!: string;

  @Column('text')
  recipient!: string;

  @Column('text')
  subject!: string;

  @Column('text')
  body!: string;

  @Column('text')
  status!: NotificationStatus;

  @Column('integer')
  attempts!: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column('timestamptz', { name: 'next_attempt_at' })
  nextAttemptAt!: Date;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt!: Date | null;

  /** The context of the message that recorded it, which its delivery's span continues. */
  @Column('text', { nullable: true })
  traceparent!: string | null;
}
