import { Module } from '@nestjs/common';
import { PlatformModule } from '@ordering/platform';
import { orderService } from './order-service.definition.js';

@Module({
  imports: [PlatformModule.forService(orderService)],
})
export class OrderModule {}
