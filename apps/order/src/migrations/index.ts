import { CreateEventStore1764300000000 } from '@ordering/event-store';
import { CreateIdempotencyKeys1764300050000 } from '@ordering/platform';
import { CreateOrderReadModels1764300100000 } from './1764300100000-create-order-read-models.js';

/** Every migration of the order database, oldest first. */
export const orderMigrations: Function[] = [
  CreateEventStore1764300000000,
  CreateIdempotencyKeys1764300050000,
  CreateOrderReadModels1764300100000,
];
