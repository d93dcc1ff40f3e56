import { Module } from '@nestjs/common';
import { PlatformModule } from '@ordering/platform';
import { inventoryService } from './inventory-service.definition.js';

@Module({
  imports: [PlatformModule.forService(inventoryService)],
})
export class InventoryModule {}
