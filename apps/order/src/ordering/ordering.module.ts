import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigService } from '@nestjs/config';
import { EventStore, type InlineProjection } from '@ordering/event-store';
import { Database, IdempotencyModule } from '@ordering/platform';
import { CatalogueModule } from '../catalogue/catalogue.module.js';
import {
  RESERVATION_TIMEOUT_MS,
  ReservationDeadlines,
} from '../fulfilment/reservation-deadlines.projection.js';
import type { OrderEnvironment } from '../order.environment.js';
import { CancelOrderHandler } from './cancelling-order/cancel-order.command.js';
import { CancelOrderHttpController } from './cancelling-order/cancel-order.http.controller.js';
import { GetOrderHistoryHandler } from './getting-order-history/get-order-history.query.js';
import { GetOrderHistoryHttpController } from './getting-order-history/get-order-history.http.controller.js';
import { GetOrderAsOfHandler, GetOrderHandler } from './getting-order/get-order.query.js';
import { GetOrderHttpController } from './getting-order/get-order.http.controller.js';
import { OrderSummary } from './getting-order/order-summary.entity.js';
import { OrderSummaryProjection } from './getting-order/order-summary.projection.js';
import { ListOrdersHandler } from './listing-orders/list-orders.query.js';
import { ListOrdersHttpController } from './listing-orders/list-orders.http.controller.js';
import type { OrderEvent } from './domain/order.js';
import { OrderCommands, orderEventTypes } from './order-stream.js';
import { PlaceOrderHandler } from './placing-order/place-order.command.js';
import { OrderIntegrationEvents } from './publishing-events/order-integration-events.js';
import { PlaceOrderHttpController } from './placing-order/place-order.http.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([OrderSummary]), CatalogueModule, IdempotencyModule],
  controllers: [
    PlaceOrderHttpController,
    ListOrdersHttpController,
    GetOrderHttpController,
    GetOrderHistoryHttpController,
    CancelOrderHttpController,
  ],
  providers: [
    OrderSummaryProjection,
    OrderIntegrationEvents,
    ReservationDeadlines,
    {
      provide: RESERVATION_TIMEOUT_MS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<OrderEnvironment, true>) =>
        config.get('ORDER_RESERVATION_TIMEOUT', { infer: true }) * 1000,
    },
    {
      provide: EventStore,
      inject: [Database, OrderSummaryProjection, ReservationDeadlines, OrderIntegrationEvents],
      useFactory: (database: Database, ...projections: InlineProjection<OrderEvent>[]) =>
        new EventStore(database, orderEventTypes, projections),
    },
    OrderCommands,
    PlaceOrderHandler,
    CancelOrderHandler,
    GetOrderHandler,
    GetOrderAsOfHandler,
    ListOrdersHandler,
    GetOrderHistoryHandler,
  ],
  exports: [EventStore, OrderCommands],
})
export class OrderingModule {}
