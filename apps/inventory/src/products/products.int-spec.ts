import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ORDER_API_ROLES } from '@ordering/contracts';
import {
  httpClient,
  startInProcess,
  tokenFor,
  unboundedInputs,
  type InProcessService,
} from '@ordering/testing';

const product = { name: 'Mug', price: 900, currency: 'EUR', available: 10 };

describe('changing the catalogue (inventory service, real PostgreSQL and RabbitMQ)', () => {
  let inventory: InProcessService;
  let request: ReturnType<typeof httpClient>;

  beforeAll(async () => {
    inventory = await startInProcess({
      name: 'inventory',
      env: { INVENTORY_DEMO_CATALOGUE: 'false' },
      load: async () => ({
        service: (await import('../inventory-service.definition.js')).inventoryService,
        module: (await import('../inventory.module.js')).InventoryModule,
      }),
    });
    request = httpClient(inventory.url);
  });

  afterAll(async () => {
    await inventory?.stop();
  });

  it('lets an admin create a product', async () => {
    const created = await request('PUT', '/products/ADMIN-MUG', {
      token: tokenFor('ops', { admin: true }),
      body: product,
    });
    expect(created.status).toBe(201);
    expect((await request('GET', '/products/ADMIN-MUG')).body).toMatchObject(product);
  });

  it.each([
    ['a customer', tokenFor('customer-1')],
    [
      'a service that reads orders (the notification service)',
      tokenFor('notification-service', { roles: [ORDER_API_ROLES.orderReader] }),
    ],
  ])('refuses %s with 403 and changes nothing', async (_who, token) => {
    const refused = await request('PUT', '/products/FORBIDDEN-MUG', { token, body: product });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toMatch(/forbidden$/);
    expect((await request('GET', '/products/FORBIDDEN-MUG')).status).toBe(404);
  });

  it('documents a bound for every input it takes: lengths, maxima and sizes', async () => {
    const document = await request('GET', '/docs-json');
    expect(unboundedInputs(document.body)).toEqual([]);
  });
});
