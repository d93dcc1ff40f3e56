import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PlatformModule } from '@ordering/platform';
import { orderService } from './order-service.definition.js';
import { OrderingModule } from './ordering/ordering.module.js';

@Module({
  imports: [PlatformModule.forService(orderService), CqrsModule.forRoot(), OrderingModule],
})
export class OrderModule {}
