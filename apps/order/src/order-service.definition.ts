import type { ServiceDefinition } from '@ordering/platform';
import { OrderEnvironment } from './order.environment.js';
import { orderMigrations } from './migrations/index.js';

export const orderService: ServiceDefinition<OrderEnvironment> = {
  name: 'order',
  environment: OrderEnvironment,
  httpPortVariable: 'ORDER_HTTP_PORT',
  databaseUrlVariable: 'ORDER_DATABASE_URL',
  migrations: orderMigrations,
};
