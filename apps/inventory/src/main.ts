import 'reflect-metadata';
import { runService } from '@ordering/platform';
import { inventoryService } from './inventory-service.definition.js';
import { InventoryModule } from './inventory.module.js';

await runService(inventoryService, InventoryModule);
