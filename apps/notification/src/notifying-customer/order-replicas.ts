import { Injectable } from '@nestjs/common';
import type { OrderPlacedV1 } from '@ordering/contracts';
import { Database, LookupsTogether, type Transaction } from '@ordering/platform';

/** What the notification service knows of an order from its `order.placed`. */
export interface OrderReplica {
  orderId: string;
  customerId: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
}

/**
 * The orders as their `order.placed` carried them (event-carried state transfer), so that the
 * thin lifecycle events need no call back to the order service. Written in the consumer's
 * transaction; read before it, many orders in one statement.
 */
@Injectable()
export class OrderReplicas {
  private readonly lookups = new LookupsTogether<string, OrderReplica>(
    (orderId) => orderId,
    (orderIds) => this.read(orderIds),
  );

  constructor(private readonly database: Database) {}

  /** Keeps an order placed, written with the rest of the batch's (a redelivery changes nothing). */
  keep(tx: Transaction, placed: OrderPlacedV1): void {
    tx.gather<OrderPlacedV1>(this, (orders) => this.write(tx, orders)).push(placed);
  }

  /**
   * The order's replica, if its `order.placed` has been seen. The lookups asked for in one turn
   * of the event loop (a consumer batch's) share one statement.
   */
  find(orderId: string): Promise<OrderReplica | undefined> {
    return this.lookups.find(orderId);
  }

  private async write(tx: Transaction, placed: readonly OrderPlacedV1[]): Promise<void> {
    await tx.query(
      `INSERT INTO order_replicas (order_id, customer_id, items, total, currency, placed_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bigint[], $5::text[],
         $6::timestamptz[])
       ON CONFLICT (order_id) DO NOTHING`,
      [
        placed.map((order) => order.orderId),
        placed.map((order) => order.customerId),
        placed.map((order) => JSON.stringify(order.lines)),
        placed.map((order) => order.total),
        placed.map((order) => order.currency),
        placed.map((order) => order.placedAt),
      ],
    );
  }

  private async read(orderIds: string[]): Promise<Map<string, OrderReplica>> {
    const rows = await this.database.query<{
      order_id: string;
      customer_id: string;
      items: OrderReplica['items'];
      total: string;
      currency: string;
    }>(
      `SELECT order_id, customer_id, items, total, currency FROM order_replicas
       WHERE order_id = ANY($1::uuid[])`,
      [orderIds],
      { plan: 'per-execution' },
    );
    return new Map(
      rows.map((row) => [
        row.order_id,
        {
          orderId: row.order_id,
          customerId: row.customer_id,
          items: row.items,
          total: Number(row.total),
          currency: row.currency,
        },
      ]),
    );
  }
}
