import { Module, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { EventStore, type InlineProjection } from '@ordering/event-store';
import { Database } from '@ordering/platform';
import type { Order, OrderEvent } from './domain/order.js';
import { OrderCommands, orderEventTypes, OrderProjection } from './order-stream.js';

/**
 * The order streams: the event store and the order's command handler, for every slice that
 * reads or changes orders. A slice that keeps a read model (or anything else in step with the
 * streams) provides it itself, marked `@OrderProjection()`; the store finds them all here.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: EventStore,
      inject: [Database],
      useFactory: (database: Database) =>
        new EventStore<OrderEvent, Order>(database, orderEventTypes),
    },
    OrderCommands,
  ],
  exports: [EventStore, OrderCommands],
})
export class OrderStreamModule implements OnModuleInit {
  constructor(
    private readonly store: EventStore<OrderEvent, Order>,
    private readonly discovery: DiscoveryService,
  ) {}

  // Every provider exists by now, and nothing has appended yet: HTTP and the consumers start
  // after the modules are initialised.
  onModuleInit(): void {
    this.store.addProjections(
      this.discovery
        .getProviders({ metadataKey: OrderProjection.KEY })
        .map((wrapper) => wrapper.instance as InlineProjection<OrderEvent, Order>),
    );
  }
}
