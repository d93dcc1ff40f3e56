import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, metricValue, OrderingSystem, type ServiceName } from '@ordering/testing';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';

describe('GET /metrics of every service, while orders flow', () => {
  const system = new OrderingSystem({ DATABASE_POOL_SIZE: '7' });
  beforeAll(() => system.start(), 90_000);
  afterAll(() => system.stop());

  async function scrape(service: ServiceName): Promise<string> {
    const response = await fetch(`${system.service(service).url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  }

  it('counts what an order does in each service, and serves the state of outbox, pool and deadlines', async () => {
    const before = {
      order: await scrape('order'),
      inventory: await scrape('inventory'),
      notification: await scrape('notification'),
    };
    const mug = `MUG-${randomUUID().slice(0, 6)}`.toUpperCase();
    await system.stock(mug, 5);
    const confirmed = await system.placeOrder('metrics-1', [{ sku: mug, quantity: 1 }]);
    const rejected = await system.placeOrder('metrics-2', [{ sku: mug, quantity: 9 }]);
    await system.orderReaches(confirmed, ['CONFIRMED']);
    await system.orderReaches(rejected, ['REJECTED']);
    await eventually(async () =>
      expect(await system.notifications(confirmed)).toEqual([
        expect.objectContaining({ status: 'SENT' }),
      ]),
    );

    const moved = (service: ServiceName, text: string, name: string, labels = {}) =>
      (metricValue(text, name, labels) ?? 0) - (metricValue(before[service], name, labels) ?? 0);

    const order = await scrape('order');
    const placed = {
      http_request_method: 'POST',
      http_route: '/orders',
      http_response_status_code: '202',
    };
    expect(moved('order', order, 'http_server_request_duration_seconds_count', placed)).toBe(2);
    expect(
      moved('order', order, 'messaging_client_consumed_messages_total', {
        message_type: 'inventory.reserved',
        outcome: 'handled',
      }),
    ).toBe(1);
    const saga = 'fulfilment_saga_duration_seconds_count';
    expect(moved('order', order, saga, { outcome: 'confirmed' })).toBe(1);
    expect(moved('order', order, saga, { outcome: 'rejected' })).toBe(1);
    expect(metricValue(order, 'outbox_relay_leader')).toBe(1);
    expect(metricValue(order, 'outbox_unsent_messages')).toBeGreaterThanOrEqual(0);
    expect(metricValue(order, 'outbox_oldest_unsent_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(metricValue(order, 'reservation_deadlines', { state: 'overdue' })).toBe(0);
    expect(metricValue(order, 'db_client_connection_max')).toBe(7);
    expect(metricValue(order, 'db_client_connection_count')).toBeGreaterThan(0);
    expect(metricValue(order, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    const inventory = await scrape('inventory');
    expect(
      moved('inventory', inventory, 'messaging_client_consumed_messages_total', {
        message_type: 'order.placed',
        outcome: 'handled',
      }),
    ).toBe(2);
    expect(
      moved('inventory', inventory, 'messaging_process_duration_seconds_count', {
        messaging_destination_name: 'inventory.order.events',
      }),
    ).toBeGreaterThanOrEqual(1);

    const notification = await scrape('notification');
    expect(
      moved('notification', notification, 'notification_deliveries_total', { outcome: 'sent' }),
    ).toBeGreaterThanOrEqual(2);
    expect(metricValue(notification, 'notifications_pending')).toBeGreaterThanOrEqual(0);
  });

  it('counts a poison message as dead-lettered, of type "unknown" since it cannot be trusted', async () => {
    const before = metricValue(
      await scrape('inventory'),
      'messaging_client_consumed_messages_total',
      {
        outcome: 'dead_lettered',
        message_type: 'unknown',
      },
    );
    const connection = await amqplib.connect(system.rabbitmqUrl);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish('order.events', 'order.placed', Buffer.from('not json'), { type: 'x.y' });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await eventually(async () =>
      expect(
        metricValue(await scrape('inventory'), 'messaging_client_consumed_messages_total', {
          outcome: 'dead_lettered',
          message_type: 'unknown',
        }),
      ).toBe((before ?? 0) + 1),
    );
  });
});
