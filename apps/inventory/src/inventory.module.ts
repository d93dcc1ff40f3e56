import { Module } from '@nestjs/common';
import { producingModule } from '@ordering/messaging';
import { PlatformModule } from '@ordering/platform';
import { inventoryService } from './inventory-service.definition.js';
import { ProductsModule } from './products/products.module.js';
import { StockModule } from './stock/stock.module.js';

@Module({
  imports: [
    PlatformModule.forService(inventoryService),
    producingModule(),
    ProductsModule,
    StockModule,
  ],
})
export class InventoryModule {}
