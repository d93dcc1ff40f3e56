import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { producingModule } from '@ordering/messaging';
import { PlatformModule } from '@ordering/platform';
import { orderService } from './order-service.definition.js';
import { FulfilmentModule } from './fulfilment/fulfilment.module.js';
import { OrderingModule } from './ordering/ordering.module.js';

@Module({
  imports: [
    PlatformModule.forService(orderService),
    producingModule(),
    CqrsModule.forRoot(),
    OrderingModule,
    FulfilmentModule,
  ],
})
export class OrderModule {}
