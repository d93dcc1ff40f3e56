import 'reflect-metadata';
import { Queues } from '@ordering/contracts';
import { connectConsumer } from '@ordering/messaging';
import { runService } from '@ordering/platform';
import { inventoryService } from './inventory-service.definition.js';
import { InventoryModule } from './inventory.module.js';

await runService(inventoryService, InventoryModule, (app) =>
  connectConsumer(app, 'inventory', Queues.inventoryOrderEvents),
);
