import type { ServiceDefinition } from '@ordering/platform';
import { InventoryEnvironment } from './inventory.environment.js';
import { inventoryMigrations } from './migrations/index.js';

export const inventoryService: ServiceDefinition<InventoryEnvironment> = {
  name: 'inventory',
  environment: InventoryEnvironment,
  httpPortVariable: 'INVENTORY_HTTP_PORT',
  databaseUrlVariable: 'INVENTORY_DATABASE_URL',
  migrations: inventoryMigrations,
};
