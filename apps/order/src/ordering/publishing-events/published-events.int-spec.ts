import { describe, expect, it } from '@jest/globals';
import { validateEvent, type CloudEvent } from '@ordering/contracts';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DataSource } from 'typeorm';
import { alice, orderApiForTests } from '../order-api.test-support.js';

describe('what the order service publishes (real PostgreSQL)', () => {
  const api = orderApiForTests('order_published');
  const { request, place } = api;

  describe('what the order publishes', () => {
    const asyncApi = parse(
      readFileSync(path.resolve(import.meta.dirname, '../../../../../docs/asyncapi.yaml'), 'utf8'),
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

      const rows: { payload: CloudEvent }[] = await api.app
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

      const rows: { payload: CloudEvent }[] = await api.app
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
});
