import {
  CreateOutboxAndInbox1764300060000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
} from '@ordering/messaging';
import { CreateStock1764300200000 } from './1764300200000-create-stock.js';

/** Every migration of the inventory database, oldest first. */
export const inventoryMigrations: Function[] = [
  CreateOutboxAndInbox1764300060000,
  CreateStock1764300200000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
];
