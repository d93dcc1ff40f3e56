import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { EventStore, handleCommand, type EventMetadata } from '@ordering/event-store';
import {
  Clock,
  IdempotencyKeys,
  type IdempotentRequest,
  type StoredResponse,
} from '@ordering/platform';
import { In, type Repository } from 'typeorm';
import { CatalogueProduct } from '../../catalogue/catalogue-product.entity.js';
import { orderDecider } from '../domain/order.decider.js';
import { ORDER_SNAPSHOTS, orderStreamId } from '../order-stream.js';

/** What `POST /orders` answers, and what a retry with its Idempotency-Key gets again. */
export function placementResponse(orderId: string, version: number): StoredResponse {
  return {
    status: 202,
    headers: { location: `/orders/${orderId}`, etag: `"${version}"` },
    body: { orderId, status: 'PENDING' },
  };
}

export class PlaceOrderCommand extends Command<{ version: number }> {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly items: { sku: string; quantity: number }[],
    readonly metadata: EventMetadata,
    /** Its response is recorded in the placement's own transaction. */
    readonly idempotency?: IdempotentRequest,
  ) {
    super();
  }
}

@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand> {
  constructor(
    private readonly store: EventStore,
    @InjectRepository(CatalogueProduct) private readonly catalogue: Repository<CatalogueProduct>,
    private readonly idempotencyKeys: IdempotencyKeys,
    private readonly clock: Clock,
  ) {}

  async execute({ orderId, customerId, items, metadata, idempotency }: PlaceOrderCommand) {
    const products = await this.catalogue.findBy({ sku: In(items.map((item) => item.sku)) });
    const prices = new Map(products.map((p) => [p.sku, { price: p.price, currency: p.currency }]));
    const { version } = await handleCommand(
      this.store,
      orderStreamId(orderId),
      orderDecider,
      {
        type: 'PlaceOrder',
        data: { orderId, customerId, items, catalogue: prices, now: this.clock.now() },
      },
      {
        metadata,
        snapshots: ORDER_SNAPSHOTS,
        // The order id is new unless this is a retry of the same Idempotency-Key: skip reading.
        expectNew: true,
        inTransaction: async (tx, recorded) => {
          if (!idempotency) return;
          const placed = placementResponse(orderId, recorded.at(-1)!.streamPosition);
          await this.idempotencyKeys.record(tx, idempotency, placed);
        },
      },
    );
    return { version };
  }
}
