import { CreateOutboxAndInbox1764300060000 } from '@ordering/messaging';
import { CreateStock1764300200000 } from './1764300200000-create-stock.js';

/** Every migration of the inventory database, oldest first. */
export const inventoryMigrations: Function[] = [
  CreateOutboxAndInbox1764300060000,
  CreateStock1764300200000,
];
