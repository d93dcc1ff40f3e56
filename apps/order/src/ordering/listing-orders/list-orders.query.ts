import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { OrderStatus } from '../domain/order.js';
import type { Caller } from '@ordering/platform';
import { OrderSummary } from '../getting-order/order-summary.entity.js';
import { orderAccess } from '../order-access.js';

/** Where the previous page ended: newest first means (createdAt, orderId) descending. */
export interface OrderCursor {
  createdAt: Date;
  orderId: string;
}

export class ListOrdersQuery extends Query<{ orders: OrderSummary[]; next: OrderCursor | null }> {
  constructor(
    readonly reader: Caller,
    readonly filter: { status?: OrderStatus; customerId?: string },
    readonly limit: number,
    readonly after: OrderCursor | null,
  ) {
    super();
  }
}

@QueryHandler(ListOrdersQuery)
export class ListOrdersHandler implements IQueryHandler<ListOrdersQuery> {
  constructor(@InjectRepository(OrderSummary) private readonly orders: Repository<OrderSummary>) {}

  async execute({ reader, filter, limit, after }: ListOrdersQuery) {
    const customerId = orderAccess.listedCustomer(reader, filter.customerId);
    const query = this.orders
      .createQueryBuilder('o')
      .orderBy('o.created_at', 'DESC')
      .addOrderBy('o.order_id', 'DESC')
      .limit(limit + 1);
    if (customerId !== undefined) query.andWhere('o.customer_id = :customerId', { customerId });
    if (filter.status) query.andWhere('o.status = :status', { status: filter.status });
    if (after) {
      query.andWhere('(o.created_at, o.order_id) < (:createdAt, :orderId)', {
        createdAt: after.createdAt,
        orderId: after.orderId,
      });
    }
    const rows = await query.getMany();
    const orders = rows.slice(0, limit);
    const last = orders.at(-1);
    return {
      orders,
      next:
        rows.length > limit && last ? { createdAt: last.createdAt, orderId: last.orderId } : null,
    };
  }
}
