import { afterAll, beforeAll } from '@jest/globals';
import { ensureDatabase, startHttpApp } from '@ordering/platform';
import {
  databaseUrl,
  dropDatabase,
  httpClient,
  tokenFor,
  uniqueDatabaseName,
  UNLIMITED_RATES,
} from '@ordering/testing';
import { replicateProducts } from '../catalogue/replicate-products.test-support.js';

export const alice = tokenFor('customer-alice');
export const bob = tokenFor('customer-bob');
export const admin = tokenFor('ops', { admin: true });

/**
 * The order service's HTTP API on a database of its own (no broker: its consumers are not
 * connected), with three products in its catalogue replica: COFFEE and MUG in EUR, TEA-USD.
 */
async function startOrderApi(name: string) {
  const database = uniqueDatabaseName(name);
  process.env.ORDER_DATABASE_URL = databaseUrl(database);
  process.env.LOG_LEVEL = 'warn';
  Object.assign(process.env, UNLIMITED_RATES);
  await ensureDatabase(process.env.ORDER_DATABASE_URL);
  // The module reads its configuration when it is imported: import it after setting it.
  const { OrderModule } = await import('../order.module.js');
  const { orderService } = await import('../order-service.definition.js');
  const app = await startHttpApp(orderService, OrderModule, 0);
  const request = httpClient(await app.getUrl());
  await replicateProducts(app, [
    { sku: 'COFFEE', name: 'Coffee beans', price: 1899, currency: 'EUR', available: 50 },
    { sku: 'MUG', name: 'Mug', price: 900, currency: 'EUR', available: 20 },
    { sku: 'TEA-USD', name: 'Tea', price: 500, currency: 'USD', available: 10 },
  ]);
  return {
    app,
    request,
    /** `POST /orders` with these items, as `token` (Alice by default). */
    place: (items: unknown, token = alice, headers: Record<string, string> = {}) =>
      request('POST', '/orders', { token, body: { items }, headers }),
    stop: async () => {
      await app.close();
      await dropDatabase(database);
    },
  };
}

export type OrderApi = Awaited<ReturnType<typeof startOrderApi>>;

/**
 * The order API for the tests of one file: started before them, stopped after them. `request` and
 * `place` may be taken at once; `app` only inside a test or hook.
 */
export function orderApiForTests(name: string): Omit<OrderApi, 'stop'> {
  let started: OrderApi | undefined;
  beforeAll(async () => {
    started = await startOrderApi(name);
  });
  afterAll(() => started?.stop());
  const live = (): OrderApi => {
    if (!started) throw new Error('The order API is used before its beforeAll has run');
    return started;
  };
  return {
    get app() {
      return live().app;
    },
    request: ((...args: Parameters<OrderApi['request']>) =>
      live().request(...args)) as OrderApi['request'],
    place: (...args: Parameters<OrderApi['place']>) => live().place(...args),
  };
}
