import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AggregateCommands, EventStore, EventTypeRegistry } from '@ordering/event-store';
import type { Order, OrderEvent } from './domain/order.js';
import { orderDecider, type OrderCommand } from './domain/order.decider.js';

/**
 * The names order events are stored under, each with its current schema version (and upcasters,
 * once needed): the one list of them. Renaming one orphans every stored event of it.
 */
export const orderEventTypes = new EventTypeRegistry<OrderEvent>({
  OrderPlaced: { version: 1 },
  OrderConfirmed: { version: 1 },
  OrderRejected: { version: 1 },
  OrderCancelled: { version: 1 },
});

export const orderStreamId = (orderId: string) => `order-${orderId}`;

/** Order streams snapshot every 100 events; bump shapeVersion whenever `Order` changes shape. */
export const ORDER_SNAPSHOTS = { every: 100, shapeVersion: 1 };

/**
 * The order aggregate's handler: every command on an order goes through it (load its stream and
 * snapshot, decide with the order's decider, append), whichever slice sends it.
 */
@Injectable()
export class OrderCommands extends AggregateCommands<OrderCommand, OrderEvent, Order> {
  constructor(store: EventStore<OrderEvent, Order>) {
    super(store, { decider: orderDecider, streamIdOf: orderStreamId, snapshots: ORDER_SNAPSHOTS });
  }
}

/** Marks a provider as an inline projection of the order streams (see OrderStreamModule). */
export const OrderProjection = DiscoveryService.createDecorator<void>();
