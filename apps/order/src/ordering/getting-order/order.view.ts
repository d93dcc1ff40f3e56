import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { OrderStatus } from '../domain/order.js';
import type { OrderSummary } from './order-summary.entity.js';

export class OrderLineView {
  @ApiProperty({ example: 'SKU-COFFEE-1KG' }) sku!: string;
  @ApiProperty({ example: 2 }) quantity!: number;
  @ApiProperty({ description: 'In minor units of the currency (cents)', example: 1899 })
  unitPrice!: number;
}

export class ShortLineView {
  @ApiProperty() sku!: string;
  @ApiProperty() requested!: number;
  @ApiProperty() available!: number;
}

/** An order as clients see it, from the read model or rebuilt from its events. */
export class OrderView {
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'] }) status!: OrderStatus;
  @ApiProperty({ type: [OrderLineView] }) items!: OrderLineView[];
  @ApiProperty({ description: 'In minor units of the currency (cents)', example: 3798 })
  total!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiPropertyOptional({ description: 'Why the order was rejected or cancelled' })
  reason?: string;
  @ApiPropertyOptional({ type: [ShortLineView], description: 'Lines stock could not cover' })
  shortLines?: ShortLineView[];
  @ApiProperty({ description: 'The version of the order: its ETag' }) version!: number;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export function toOrderView(summary: OrderSummary): OrderView {
  return {
    orderId: summary.orderId,
    customerId: summary.customerId,
    status: summary.status,
    items: summary.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
    total: summary.total,
    currency: summary.currency,
    ...(summary.reason === null ? {} : { reason: summary.reason }),
    ...(summary.shortLines === null ? {} : { shortLines: summary.shortLines }),
    version: summary.version,
    createdAt: summary.createdAt,
    updatedAt: summary.updatedAt,
  };
}
