import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Database, ensureDatabase, startHttpApp } from '@ordering/platform';
import {
  ConnectionFaults,
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
import { orderIdFor } from './placing-order/order-id.js';
import { replicateProducts } from '../catalogue/replicate-products.js';

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
    await replicateProducts(app, [
      { sku: 'COFFEE', name: 'Coffee beans', price: 1899, currency: 'EUR', available: 50 },
      { sku: 'MUG', name: 'Mug', price: 900, currency: 'EUR', available: 20 },
      { sku: 'TEA-USD', name: 'Tea', price: 500, currency: 'USD', available: 10 },
    ]);
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

    it('makes a retry sent while the first is still running wait for it, and answer as it did', async () => {
      const customerId = `customer-${randomUUID()}`;
      const key = { 'idempotency-key': randomUUID() };
      const items = [{ sku: 'MUG', quantity: 1 }];
      // Hold the first placement just before its COMMIT.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const isHeld = new Promise<void>((resolve) => (holding = resolve));
      const orderId = orderIdFor(customerId, key['idempotency-key']);
      const stopHolding = app.get(Database).observeStatements(async (statement) => {
        if (statement.label === `append to order-${orderId}` && statement.text === 'COMMIT') {
          holding();
          await held;
        }
      });
      try {
        const first = place(items, tokenFor(customerId), key);
        await isHeld;
        const retry = place(items, tokenFor(customerId), key);
        await new Promise((resolve) => setTimeout(resolve, 200));
        release();
        const [one, two] = await Promise.all([first, retry]);
        expect(one.status).toBe(202);
        expect(two.status).toBe(202);
        expect(two.body).toEqual(one.body);
        expect(await countOrders(tokenFor(customerId))).toBe(1);
      } finally {
        stopHolding();
      }
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

  describe('a connection lost at any statement of a command', () => {
    let faults: ConnectionFaults;
    beforeAll(async () => {
      faults = await new ConnectionFaults(app.get(Database)).start();
    });
    afterAll(() => faults.stop());

    /** How many rows of each kind the order has: its whole unit of work, or none of it. */
    async function written(orderId: string, customerId: string, key: string) {
      const [row] = await app.get(DataSource).query(
        `SELECT
           (SELECT count(*)::int FROM event_streams WHERE stream_id = 'order-' || $1) AS streams,
           (SELECT coalesce(max(version), 0) FROM event_streams WHERE stream_id = 'order-' || $1)
             AS version,
           (SELECT count(*)::int FROM events WHERE stream_id = 'order-' || $1) AS events,
           (SELECT count(*)::int FROM order_summaries WHERE order_id = $1::uuid) AS summaries,
           (SELECT count(*)::int FROM outbox WHERE aggregate_id = $1) AS outbox,
           (SELECT count(*)::int FROM reservation_deadlines WHERE order_id = $1::uuid) AS deadlines,
           (SELECT count(*)::int FROM idempotency_keys WHERE caller_id = $2 AND key = $3) AS keys`,
        [orderId, customerId, key],
      );
      return row;
    }

    it('places an order all or nothing, and a retry with its key places it once', async () => {
      const items = [{ sku: 'COFFEE', quantity: 1 }];
      const label = /^append to order-/;
      const statements = await faults.statementsOf({ label }, () =>
        place(items, alice, { 'idempotency-key': randomUUID() }),
      );
      expect(statements.at(-1)).toBe('COMMIT');
      for (const [index, text] of statements.entries()) {
        const customerId = `customer-${randomUUID()}`;
        const key = randomUUID();
        const orderId = orderIdFor(customerId, key);
        const broken = faults.breakBefore({ label, index });
        const failed = await place(items, tokenFor(customerId), { 'idempotency-key': key });
        expect(await broken).toBe(text);
        expect(failed.status).toBe(503);
        expect(failed.headers.get('retry-after')).toBe('1');
        expect(await written(orderId, customerId, key)).toEqual({
          streams: 0,
          version: 0,
          events: 0,
          summaries: 0,
          outbox: 0,
          deadlines: 0,
          keys: 0,
        });

        const retried = await place(items, tokenFor(customerId), { 'idempotency-key': key });
        expect(retried.status).toBe(202);
        expect(retried.body).toEqual({ orderId, status: 'PENDING' });
        const replayed = await place(items, tokenFor(customerId), { 'idempotency-key': key });
        expect(replayed.headers.get('idempotent-replayed')).toBe('true');
        expect(replayed.body).toEqual(retried.body);
        expect(await written(orderId, customerId, key)).toEqual({
          streams: 1,
          version: 1,
          events: 1,
          summaries: 1,
          outbox: 1,
          deadlines: 1,
          keys: 1,
        });
      }
    });

    it('cancels an order all or nothing, and a retry with its key cancels it once', async () => {
      // The cancellation's own transaction (the order is placed beforehand).
      const { body: sample } = await place([{ sku: 'MUG', quantity: 1 }], alice);
      const cancellation = await faults.statementsOf(
        { label: `append to order-${sample.orderId}` },
        () =>
          request('POST', `/orders/${sample.orderId}/cancel`, {
            token: alice,
            body: {},
            headers: { 'idempotency-key': randomUUID() },
          }),
      );
      for (const [index, text] of cancellation.entries()) {
        const customerId = `customer-${randomUUID()}`;
        const token = tokenFor(customerId);
        const { body: placed } = await place([{ sku: 'MUG', quantity: 1 }], token);
        const key = randomUUID();
        const cancel = () =>
          request('POST', `/orders/${placed.orderId}/cancel`, {
            token,
            body: { reason: 'changed my mind' },
            headers: { 'idempotency-key': key },
          });
        const broken = faults.breakBefore({ label: `append to order-${placed.orderId}`, index });
        const failed = await cancel();
        expect(await broken).toBe(text);
        expect(failed.status).toBe(503);
        expect(await written(placed.orderId, customerId, key)).toMatchObject({
          version: 1,
          events: 1,
          outbox: 1,
          deadlines: 1,
          keys: 0,
        });
        expect((await request('GET', `/orders/${placed.orderId}`, { token })).body.status).toBe(
          'PENDING',
        );

        const retried = await cancel();
        expect(retried.status).toBe(202);
        expect(retried.body).toEqual({ orderId: placed.orderId, status: 'CANCELLED', version: 2 });
        // Answered as it was, not with 409 "already cancelled".
        const again = await cancel();
        expect(again.status).toBe(202);
        expect(again.body).toEqual(retried.body);
        expect(await written(placed.orderId, customerId, key)).toMatchObject({
          version: 2,
          events: 2,
          summaries: 1,
          outbox: 2,
          deadlines: 0,
          keys: 1,
        });
      }
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

    it('answers another customer’s order with the same 404 from every route, as if it did not exist', async () => {
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }], alice);
      const path = `/orders/${placed.body.orderId}`;
      const answers = [
        await request('GET', path, { token: bob }),
        await request('GET', `${path}/events`, { token: bob }),
        await request('POST', `${path}/cancel`, { token: bob, body: {} }),
      ];
      const missing = await request('POST', `/orders/${randomUUID()}/cancel`, {
        token: bob,
        body: {},
      });
      for (const answer of [...answers, missing]) {
        expect(answer.status).toBe(404);
        expect(answer.body.type).toMatch(/order-not-found$/);
      }
      expect(new Set(answers.map((answer) => answer.body.title))).toEqual(
        new Set([`Order ${placed.body.orderId} does not exist`]),
      );
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

    it('publishes only events that pass their own schemas, whatever headers the request carried', async () => {
      const headers = { traceparent: 'x', tracestate: 'vendor=1' };
      const placed = await place([{ sku: 'COFFEE', quantity: 1 }], alice, headers);
      expect(placed.status).toBe(202);
      const cancelled = await request('POST', `/orders/${placed.body.orderId}/cancel`, {
        token: alice,
        body: {},
        headers,
      });
      expect(cancelled.status).toBe(202);
      const traced = await place([{ sku: 'MUG', quantity: 1 }], alice, {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'x-correlation-id': 'checkout-42',
      });

      const rows: { payload: CloudEvent }[] = await app
        .get(DataSource)
        .query('SELECT payload FROM outbox WHERE aggregate_id = ANY($1) ORDER BY id', [
          [placed.body.orderId, traced.body.orderId],
        ]);
      expect(rows).toHaveLength(3);
      for (const { payload } of rows) expect(validateEvent(payload)).toMatchObject({ valid: true });
      // A malformed traceparent is dropped, a valid one and a correlation id are passed on.
      expect(rows[0].payload.traceparent).toBeUndefined();
      expect(rows[1].payload.traceparent).toBeUndefined();
      expect(rows[2].payload).toMatchObject({
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        correlationid: 'checkout-42',
      });
    });

    it('refuses an X-Correlation-Id that is empty or unprintable (400, naming the header)', async () => {
      for (const value of ['', 'x'.repeat(129), 'café']) {
        const refused = await place([{ sku: 'MUG', quantity: 1 }], alice, {
          'x-correlation-id': value,
        });
        expect(refused.status).toBe(400);
        expect(refused.body.errors).toEqual([
          { field: 'X-Correlation-Id', message: expect.any(String) },
        ]);
      }
    });

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

  it('documents the body of POST /orders with the limits it checks', async () => {
    const document = await request('GET', '/docs-json');
    const body = document.body.paths['/orders'].post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({
      required: ['items'],
      additionalProperties: false,
      properties: {
        items: {
          minItems: 1,
          maxItems: 100,
          items: {
            properties: {
              sku: { pattern: '^[A-Za-z0-9._-]{1,64}$' },
              quantity: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        },
      },
    });
  });
});
