import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { productUpdatedV1 } from '@ordering/contracts';
import {
  createTestVhost,
  databaseUrl,
  dropDatabase,
  eventually,
  freePort,
  httpClient,
  ServiceProcess,
  testEvent,
  testPublisher,
  tokenFor,
  uniqueDatabaseName,
} from '@ordering/testing';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

describe('the order service, built and run as users run it', () => {
  const database = uniqueDatabaseName('order_e2e');
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let env: Record<string, string>;
  let order: ServiceProcess;
  let request: ReturnType<typeof httpClient>;
  let token: string;
  // Only to damage the read model that the rebuild test then rebuilds.
  let db: pg.Client;

  const cli = (script: string, args: string[]) =>
    run(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env } });

  beforeAll(async () => {
    vhost = await createTestVhost('order_e2e');
    env = { ORDER_DATABASE_URL: databaseUrl(database), RABBITMQ_URL: vhost.url, LOG_LEVEL: 'warn' };
    const port = await freePort();
    order = await new ServiceProcess('order', port, {
      ...env,
      ORDER_HTTP_PORT: String(port),
    }).start();
    request = httpClient(order.url);
    db = new pg.Client({ connectionString: env.ORDER_DATABASE_URL });
    await db.connect();
    // Stocked as the inventory would: a product.updated the service's catalogue consumer takes.
    const inventory = await testPublisher(vhost.url);
    await inventory.publish(
      testEvent(productUpdatedV1, {
        sku: 'COFFEE',
        name: 'Coffee beans',
        price: 1899,
        currency: 'EUR',
        available: 50,
        version: 1,
        updatedAt: new Date().toISOString(),
      }),
    );
    await inventory.close();
    const anyone = tokenFor('customer-e2e-stocking');
    await eventually(async () => {
      const catalogue = await request('GET', '/catalogue', { token: anyone });
      if (!catalogue.body.some((product: { sku: string }) => product.sku === 'COFFEE')) {
        throw new Error('COFFEE is not in the catalogue replica yet');
      }
    });
    token = (await cli('scripts/token.mjs', ['customer-e2e'])).stdout.trim();
  });

  afterAll(async () => {
    await db?.end();
    await order?.stop();
    await dropDatabase(database);
    await vhost?.remove();
  });

  it('accepts the token printed by `npm run token`', async () => {
    const placed = await request('POST', '/orders', {
      token,
      body: { items: [{ sku: 'COFFEE', quantity: 2 }] },
    });
    expect(placed.status).toBe(202);
    const read = await request('GET', `/orders/${placed.body.orderId}`, { token });
    expect(read.body).toMatchObject({ customerId: 'customer-e2e', total: 3798, status: 'PENDING' });
  });

  it("says back a caller's sane X-Request-Id, and gives a request without one an id of its own", async () => {
    const given = await request('GET', '/orders', {
      token,
      headers: { 'x-request-id': 'shop-42' },
    });
    expect(given.headers.get('x-request-id')).toBe('shop-42');
    const refused = await request('GET', '/orders', {
      token,
      headers: { 'x-request-id': 'not sane!' },
    });
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const none = await request('GET', '/orders', { token });
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get('x-request-id')).not.toBe(refused.headers.get('x-request-id'));
  });

  it('rebuilds the order read model from the event log with `npm run rebuild`', async () => {
    const placed = await request('POST', '/orders', {
      token,
      body: { items: [{ sku: 'COFFEE', quantity: 1 }] },
    });
    await request('POST', `/orders/${placed.body.orderId}/cancel`, { token, body: {} });
    const before = (await request('GET', '/orders?limit=100', { token })).body.items;
    // A read model gone wrong: rows lost and rows damaged.
    await db.query(`DELETE FROM order_summaries WHERE order_id = $1`, [placed.body.orderId]);
    await db.query(`UPDATE order_summaries SET total = 0, status = 'PENDING'`);

    const rebuilt = await cli('dist/apps/order/apps/order/src/rebuild.js', ['order-summaries']);

    expect(rebuilt.stdout).toMatch(/Rebuilt order-summaries from \d+ events/);
    expect((await request('GET', '/orders?limit=100', { token })).body.items).toEqual(before);
  });

  it('names the projections it knows when asked for another', async () => {
    const failed = cli('dist/apps/order/apps/order/src/rebuild.js', ['nonsense']);
    await expect(failed).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Projections: order-summaries'),
    });
    // The fulfilment slice's own projection is found too: each slice registers what it owns.
    await expect(failed).rejects.toMatchObject({
      stderr: expect.stringContaining('reservation-deadlines'),
    });
  });
});
