import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ensureDatabase, IdempotencyKeys, requestHash, startHttpApp } from '@ordering/platform';
import {
  databaseUrl,
  dropDatabase,
  httpClient,
  tokenFor,
  uniqueDatabaseName,
} from '@ordering/testing';
import { validateEvent, type CloudEvent } from '@ordering/contracts';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DataSource } from 'typeorm';

const alice = tokenFor('customer-alice');
const bob = tokenFor('customer-bob');
const admin = tokenFor('ops', { admin: true });

describe('orders HTTP API (order service, real PostgreSQL)', () => {
  const database = uniqueDatabaseName('order_api');
  let app: INestApplication;
  let request: ReturnType<typeof httpClient>;

  const place = (items: unknown, token = alice, headers: Record<string, string> = {}) =>
    request('POST', '/orders', { token, body: { items }, headers });

  beforeAll(async () => {
    process.env.ORDER_DATABASE_URL = databaseUrl(database);
    process.env.LOG_LEVEL = 'warn';
    await ensureDatabase(process.env.ORDER_DATABASE_URL);
    // The module reads its configuration when it is imported: import it after setting it.
    const { OrderModule } = await import('../order.module.js');
    const { orderService } = await import('../order-service.definition.js');
    app = await startHttpApp(orderService, OrderModule, 0);
    request = httpClient(await app.getUrl());
    await app.get(DataSource).query(
      `INSERT INTO catalogue_products (sku, name, price, currency, available, source_version, updated_at)
       VALUES ('COFFEE', 'Coffee beans', 1899, 'EUR', 50, 1, now()),
              ('MUG', 'Mug', 900, 'EUR', 20, 1, now()),
              ('TEA-USD', 'Tea', 500, 'USD', 10, 1, now())`,
    );
  });

  afterAll(async () => {
    await app?.close();
    await dropDatabase(database);
  });

  describe('POST /orders', () => {
    it('places an order priced from the catalogue: 202, Location, ETag, then readable', async () => {
      const placed = await place([
        { sku: 'COFFEE', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ]);

      expect(placed.status).toBe(202);
      expect(placed.body).toEqual({ orderId: expect.any(String), status: 'PENDING' });
      expect(placed.headers.get('location')).toBe(`/orders/${placed.body.orderId}`);
      expect(placed.headers.get('etag')).toBe('"1"');

      const order = await request('GET', `/orders/${placed.body.orderId}`, { token: alice });
      expect(order.status).toBe(200);
      expect(order.headers.get('etag')).toBe('"1"');
      expect(order.body).toMatchObject({
        orderId: placed.body.orderId,
        customerId: 'customer-alice',
        status: 'PENDING',
        items: [
          { sku: 'COFFEE', quantity: 2, unitPrice: 1899 },
          { sku: 'MUG', quantity: 1, unitPrice: 900 },
        ],
        total: 2 * 1899 + 900,
        currency: 'EUR',
        version: 1,
      });
    });

    it('answers 401 without a valid token', async () => {
      expect((await request('POST', '/orders', { body: { items: [] } })).status).toBe(401);
      const forged = tokenFor('customer-alice', { secret: 'not-the-secret-at-all' });
      const response = await place([{ sku: 'COFFEE', quantity: 1 }], forged);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 400 naming the field at fault', async () => {
      const response = await place([{ sku: 'COFFEE', quantity: 0 }]);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.errors).toEqual([
        { field: 'items[0].quantity', message: expect.stringContaining('1') },
      ]);
    });

    it('answers 400 for unknown fields and malformed JSON', async () => {
      const unknown = await request('POST', '/orders', {
        token: alice,
        body: { items: [{ sku: 'COFFEE', quantity: 1 }], price: 1 },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([{ field: 'price', message: expect.any(String) }]);

      const malformed = await request('POST', '/orders', { token: alice, rawBody: '{"items": [' });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 413 for a body over 64 KiB', async () => {
      const response = await request('POST', '/orders', {
        token: alice,
        rawBody: JSON.stringify({ items: [], padding: 'x'.repeat(70 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 422 listing unknown SKUs, and refuses duplicates and mixed currencies', async () => {
      const unknown = await place([
        { sku: 'NOPE-2', quantity: 1 },
        { sku: 'COFFEE', quantity: 1 },
        { sku: 'NOPE-1', quantity: 1 },
      ]);
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({
        type: expect.stringContaining('unknown-skus'),
        skus: ['NOPE-2', 'NOPE-1'],
      });

      const duplicate = await place([
        { sku: 'MUG', quantity: 1 },
        { sku: 'MUG', quantity: 2 },
      ]);
      expect(duplicate.status).toBe(422);
      expect(duplicate.body.skus).toEqual(['MUG']);

      const mixed = await place([
        { sku: 'MUG', quantity: 1 },
        { sku: 'TEA-USD', quantity: 1 },
      ]);
      expect(mixed.status).toBe(422);
    });
  });

  describe('Idempotency-Key', () => {
    const countOrders = async (token: string) =>
      (await request('GET', '/orders?limit=100', { token })).body.items.length;

    it('replays the first response to a retry with the same key and body, placing one order', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const key = { 'idempotency-key': randomUUID() };
      const first = await place([{ sku: 'MUG', quantity: 3 }], customer, key);
      const retry = await place([{ sku: 'MUG', quantity: 3 }], customer, key);

      expect(first.status).toBe(202);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('location')).toBe(first.headers.get('location'));
      expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await countOrders(customer)).toBe(1);
    });

    it('refuses the same key with a different body (422)', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const key = { 'idempotency-key': randomUUID() };
      await place([{ sku: 'MUG', quantity: 1 }], customer, key);
      const other = await place([{ sku: 'MUG', quantity: 2 }], customer, key);
      expect(other.status).toBe(422);
      expect(await countOrders(customer)).toBe(1);
    });

    it('refuses a retry while the first request is still in flight (409)', async () => {
      const customerId = `customer-${randomUUID()}`;
      const key = randomUUID();
      const body = { items: [{ sku: 'MUG', quantity: 1 }] };
      // The first request has claimed the key and not finished.
      await app.get(IdempotencyKeys).claim(customerId, key, requestHash('POST', '/orders', body));

      const retry = await place(body.items, tokenFor(customerId), { 'idempotency-key': key });
      expect(retry.status).toBe(409);
      expect(await countOrders(tokenFor(customerId))).toBe(0);
    });

    it('keeps keys per customer', async () => {
      const key = { 'idempotency-key': randomUUID() };
      const one = await place([{ sku: 'MUG', quantity: 1 }], tokenFor(`c-${randomUUID()}`), key);
      const two = await place([{ sku: 'MUG', quantity: 1 }], tokenFor(`c-${randomUUID()}`), key);
      expect(two.status).toBe(202);
      expect(two.body.orderId).not.toBe(one.body.orderId);
    });

    it('lets a corrected retry reuse the key of a refused request', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const key = { 'idempotency-key': randomUUID() };
      expect((await place([{ sku: 'NOPE', quantity: 1 }], customer, key)).status).toBe(422);
      expect((await place([{ sku: 'NOPE', quantity: 1 }], customer, key)).status).toBe(422);
    });
  });

  describe('reading orders', () => {
    it('shows a customer only its own orders: another’s answers 404; admins see all', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }], alice);
      const path = `/orders/${placed.body.orderId}`;
      expect((await request('GET', path, { token: bob })).status).toBe(404);
      expect((await request('GET', `${path}/events`, { token: bob })).status).toBe(404);
      expect((await request('GET', path, { token: admin })).status).toBe(200);
      expect((await request('GET', `/orders/${randomUUID()}`, { token: alice })).status).toBe(404);
    });

    it('answers 400 for a malformed order id', async () => {
      const response = await request('GET', '/orders/not-a-uuid', { token: alice });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it('lists the caller’s orders newest first, a cursor page at a time, filtered by status', async () => {
      const customer = tokenFor(`customer-${randomUUID()}`);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await place([{ sku: 'MUG', quantity: 1 }], customer)).body.orderId);
      await request('POST', `/orders/${ids[1]}/cancel`, { token: customer, body: {} });

      const pages: string[][] = [];
      let cursor = '';
      do {
        const page = await request('GET', `/orders?limit=2${cursor && `&cursor=${cursor}`}`, {
          token: customer,
        });
        expect(page.status).toBe(200);
        pages.push(page.body.items.map((o: { orderId: string }) => o.orderId));
        cursor = page.body.nextCursor ?? '';
      } while (cursor);
      expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);

      const cancelled = await request('GET', '/orders?status=CANCELLED', { token: customer });
      expect(cancelled.body.items.map((o: { orderId: string }) => o.orderId)).toEqual([ids[1]]);
      expect((await request('GET', '/orders?limit=0', { token: customer })).status).toBe(400);
      expect((await request('GET', '/orders?status=LOST', { token: customer })).status).toBe(400);
      expect((await request('GET', '/orders?cursor=garbage', { token: customer })).status).toBe(
        400,
      );
    });

    it('gives the audit trail and the order as it was at a version or an instant', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}`;
      const cancelled = await request('POST', `${path}/cancel`, {
        token: alice,
        body: { reason: 'changed my mind' },
      });
      expect(cancelled.status).toBe(202);

      const events = await request('GET', `${path}/events`, { token: alice });
      expect(events.status).toBe(200);
      expect(
        events.body.map((e: { type: string; version: number }) => [e.type, e.version]),
      ).toEqual([
        ['OrderPlaced', 1],
        ['OrderCancelled', 2],
      ]);
      expect(events.body[1].data).toMatchObject({
        reason: 'changed my mind',
        previousStatus: 'PENDING',
      });
      expect(events.body[0].metadata).toMatchObject({ userId: 'customer-alice' });

      const atVersion1 = await request('GET', `${path}?version=1`, { token: alice });
      expect(atVersion1.body).toMatchObject({ status: 'PENDING', version: 1 });
      const atPlacement = await request('GET', `${path}?at=${events.body[0].time}`, {
        token: alice,
      });
      expect(atPlacement.body).toMatchObject({ status: 'PENDING', version: 1 });
      const now = await request('GET', path, { token: alice });
      expect(now.body).toMatchObject({
        status: 'CANCELLED',
        reason: 'changed my mind',
        version: 2,
      });
      const before = await request('GET', `${path}?at=2000-01-01T00:00:00Z`, { token: alice });
      expect(before.status).toBe(404);
      expect((await request('GET', `${path}?at=yesterday`, { token: alice })).status).toBe(400);
    });
  });

  describe('POST /orders/:id/cancel', () => {
    it('cancels with a matching If-Match, refuses a stale one (412) and a second cancel (409)', async () => {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}/cancel`;

      const stale = await request('POST', path, {
        token: alice,
        body: {},
        headers: { 'if-match': '"7"' },
      });
      expect(stale.status).toBe(412);

      const cancelled = await request('POST', path, {
        token: alice,
        body: {},
        headers: { 'if-match': '"1"' },
      });
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toEqual({
        orderId: placed.body.orderId,
        status: 'CANCELLED',
        version: 2,
      });
      expect(cancelled.headers.get('etag')).toBe('"2"');

      const again = await request('POST', path, { token: alice, body: {} });
      expect(again.status).toBe(409);
      expect(again.body.type).toContain('order-is-final');
    });

    it('answers 404 for another customer’s order and 400 for a malformed If-Match', async () => {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}/cancel`;
      expect((await request('POST', path, { token: bob, body: {} })).status).toBe(404);
      const malformed = await request('POST', path, {
        token: alice,
        body: {},
        headers: { 'if-match': 'v1' },
      });
      expect(malformed.status).toBe(400);
      expect(
        (await request('GET', `/orders/${placed.body.orderId}`, { token: alice })).body.status,
      ).toBe('PENDING');
    });

    it('replays a cancel retried with the same Idempotency-Key', async () => {
      const placed = await place([{ sku: 'MUG', quantity: 1 }]);
      const path = `/orders/${placed.body.orderId}/cancel`;
      const key = { 'idempotency-key': randomUUID() };
      const first = await request('POST', path, { token: alice, body: {}, headers: key });
      const retry = await request('POST', path, { token: alice, body: {}, headers: key });
      expect(first.status).toBe(202);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
    });
  });

  describe('what the order publishes', () => {
    const asyncApi = parse(
      readFileSync(path.resolve(import.meta.dirname, '../../../../docs/asyncapi.yaml'), 'utf8'),
    ) as { components: { messages: Record<string, { 'x-dataschema': string; payload: object }> } };
    const ajv = new Ajv({ strict: false });
    (addFormats as unknown as { default: (ajv: Ajv) => Ajv }).default(ajv);

    it('writes events to the outbox that validate against their schema and the AsyncAPI document', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 3 }]);
      await request('POST', `/orders/${placed.body.orderId}/cancel`, { token: alice, body: {} });

      const rows: { payload: CloudEvent }[] = await app
        .get(DataSource)
        .query('SELECT payload FROM outbox WHERE aggregate_id = $1 ORDER BY id', [
          placed.body.orderId,
        ]);
      expect(rows.map((row) => row.payload.type)).toEqual(['order.placed', 'order.cancelled']);
      for (const { payload } of rows) {
        expect(validateEvent(payload)).toMatchObject({ valid: true });
        const documented = Object.values(asyncApi.components.messages).find(
          (message) => message['x-dataschema'] === payload.dataschema,
        );
        expect(documented).toBeDefined();
        expect(ajv.validate(documented!.payload, payload.data)).toBe(true);
      }
      expect(rows[0].payload).toMatchObject({
        source: '/ordering/order',
        subject: placed.body.orderId,
        data: { customerId: 'customer-alice', total: 3 * 1899, currency: 'EUR', version: 1 },
      });
    });
  });

  it('shows the catalogue replica', async () => {
    const catalogue = await request('GET', '/catalogue', { token: alice });
    expect(catalogue.status).toBe(200);
    expect(catalogue.body.map((p: { sku: string }) => p.sku)).toEqual(['COFFEE', 'MUG', 'TEA-USD']);
    expect(catalogue.body[0]).toMatchObject({ name: 'Coffee beans', price: 1899, currency: 'EUR' });
  });

  it('serves its OpenAPI document', async () => {
    const document = await request('GET', '/docs-json');
    expect(document.status).toBe(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining([
        '/orders',
        '/orders/{orderId}',
        '/orders/{orderId}/events',
        '/orders/{orderId}/cancel',
        '/catalogue',
      ]),
    );
  });
});
