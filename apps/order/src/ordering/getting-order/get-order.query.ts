import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { EventStore } from '@ordering/event-store';
import type { Caller } from '@ordering/platform';
import type { Repository } from 'typeorm';
import { evolve, initialOrder, type OrderEvent } from '../domain/order.js';
import { orderAccess } from '../order-access.js';
import { orderStreamId } from '../order-stream.js';
import { OrderSummary } from './order-summary.entity.js';
import { summarize } from './order-summary.projection.js';

export class GetOrderQuery extends Query<OrderSummary | null> {
  constructor(
    readonly orderId: string,
    readonly reader: Caller,
  ) {
    super();
  }
}

/** The order as it was at a version or an instant: rebuilt from its events, by design. */
export class GetOrderAsOfQuery extends Query<OrderSummary | null> {
  constructor(
    readonly orderId: string,
    readonly reader: Caller,
    readonly asOf: { version?: number; time?: Date },
  ) {
    super();
  }
}

@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery> {
  constructor(@InjectRepository(OrderSummary) private readonly orders: Repository<OrderSummary>) {}

  async execute({ orderId, reader }: GetOrderQuery): Promise<OrderSummary | null> {
    const order = await this.orders.findOneBy({ orderId });
    return order && orderAccess.maySee(reader, order.customerId) ? order : null;
  }
}

@QueryHandler(GetOrderAsOfQuery)
export class GetOrderAsOfHandler implements IQueryHandler<GetOrderAsOfQuery> {
  constructor(private readonly store: EventStore<OrderEvent>) {}

  async execute({ orderId, reader, asOf }: GetOrderAsOfQuery): Promise<OrderSummary | null> {
    const events = await this.store.readStream(orderStreamId(orderId), {
      toVersion: asOf.version,
      toTime: asOf.time,
    });
    const last = events.at(-1);
    if (!last) return null;
    const state = events.reduce(evolve, initialOrder);
    const order = summarize(state, last.streamPosition, last.recordedAt);
    return order && orderAccess.maySeeHistory(reader, order.customerId) ? order : null;
  }
}
