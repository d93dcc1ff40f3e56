import { bigintAsNumber } from '@ordering/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OrderLine, OrderStatus, ShortLine } from '../domain/order.js';

/** The read model of one order, kept by OrderSummaryProjection in the append transaction. */
@Entity('order_summaries')
export class OrderSummary {
  @PrimaryColumn('uuid', { name: 'order_id' })
  orderId!: string;

  @Column('text', { name: 'customer_id' })
  customerId!: string;

  @Column('text')
  status!: OrderStatus;

  @Column('jsonb')
  items!: OrderLine[];

  @Column('bigint', { transformer: bigintAsNumber })
  total!: number;

  @Column('text')
  currency!: string;

  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('jsonb', { name: 'short_lines', nullable: true })
  shortLines!: ShortLine[] | null;

  /** The order stream's version: what `ETag` and `If-Match` carry. */
  @Column('integer')
  version!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
