import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventStore } from '@ordering/event-store';
import { IdempotencyModule } from '@ordering/platform';
import { DataSource } from 'typeorm';
import { CatalogueModule } from '../catalogue/catalogue.module.js';
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
import { orderEventTypes } from './order-stream.js';
import { PlaceOrderHandler } from './placing-order/place-order.command.js';
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
    {
      provide: EventStore,
      inject: [DataSource, OrderSummaryProjection],
      useFactory: (dataSource: DataSource, summaries: OrderSummaryProjection) =>
        new EventStore(dataSource, orderEventTypes, [summaries]),
    },
    PlaceOrderHandler,
    CancelOrderHandler,
    GetOrderHandler,
    GetOrderAsOfHandler,
    ListOrdersHandler,
    GetOrderHistoryHandler,
  ],
  exports: [EventStore],
})
export class OrderingModule {}
