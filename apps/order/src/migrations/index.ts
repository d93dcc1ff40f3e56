import { CreateEventStore1764300000000 } from '@ordering/event-store';
import {
  CreateOutboxAndInbox1764300060000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
} from '@ordering/messaging';
import {
  CreateIdempotencyKeys1764300050000,
  IdempotentResponsesWithTheirChange1764500000000,
} from '@ordering/platform';
import { CreateOrderReadModels1764300100000 } from './1764300100000-create-order-read-models.js';
import {
  CreateReservationDeadlines1764300300000,
  RetryFailingDeadlines1764500100000,
} from './1764300300000-create-reservation-deadlines.js';
import { AddDeadlineTraceparent1764700000000 } from './1764700000000-add-deadline-traceparent.js';

/** Every migration of the order database, oldest first. */
export const orderMigrations: Function[] = [
  CreateEventStore1764300000000,
  CreateIdempotencyKeys1764300050000,
  CreateOutboxAndInbox1764300060000,
  CreateOrderReadModels1764300100000,
  CreateReservationDeadlines1764300300000,
  DropOutboxNotifyTrigger1764400000000,
  SlimOutboxIndexes1764400010000,
  IdempotentResponsesWithTheirChange1764500000000,
  RetryFailingDeadlines1764500100000,
  AddDeadlineTraceparent1764700000000,
];
