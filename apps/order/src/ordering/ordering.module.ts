import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule } from '@ordering/platform';
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
import { OrderStreamModule } from './order-stream.module.js';
import { PlaceOrderHandler } from './placing-order/place-order.command.js';
import { OrderIntegrationEvents } from './publishing-events/order-integration-events.js';
import { PlaceOrderHttpController } from './placing-order/place-order.http.controller.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([OrderSummary]),
    CatalogueModule,
    IdempotencyModule,
    OrderStreamModule,
  ],
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
    PlaceOrderHandler,
    CancelOrderHandler,
    GetOrderHandler,
    GetOrderAsOfHandler,
    ListOrdersHandler,
    GetOrderHistoryHandler,
  ],
})
export class OrderingModule {}
