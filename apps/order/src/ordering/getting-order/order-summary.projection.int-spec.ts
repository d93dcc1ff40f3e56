import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@ordering/event-store';
import { createTestDatabase } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { orderMigrations } from '../../migrations/index.js';
import { evolve, initialOrder, type OrderEvent } from '../domain/order.js';
import { OrderSummary } from './order-summary.entity.js';
import { OrderSummaryProjection } from './order-summary.projection.js';

function recorded(event: OrderEvent, streamPosition: number): RecordedEvent<OrderEvent> {
  return {
    ...event,
    metadata: {},
    streamId: `order-${event.data.orderId}`,
    streamPosition,
    globalPosition: BigInt(streamPosition),
    transactionId: 1n,
    storedSchemaVersion: 1,
    recordedAt: new Date('2026-11-28T10:00:00Z'),
  };
}

const placed = (orderId: string): OrderEvent => ({
  type: 'OrderPlaced',
  data: {
    orderId,
    customerId: 'customer-1',
    lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 450 }],
    total: 900,
    currency: 'EUR',
    placedAt: '2026-11-28T10:00:00.000Z',
  },
});
const confirmed = (orderId: string): OrderEvent => ({
  type: 'OrderConfirmed',
  data: { orderId, confirmedAt: '2026-11-28T10:00:01.000Z' },
});

describe('OrderSummaryProjection (real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const projection = new OrderSummaryProjection();
  const project = (events: RecordedEvent<OrderEvent>[]) =>
    database.database.transaction((tx) => projection.project(events, tx));
  const summary = (orderId: string) =>
    database.dataSource.getRepository(OrderSummary).findOneByOrFail({ orderId });

  beforeAll(async () => {
    database = await createTestDatabase('summaries', orderMigrations, [OrderSummary]);
  });
  afterAll(() => database?.drop());

  it('writes a placed order and moves it on with each later event', async () => {
    const orderId = randomUUID();
    await project([recorded(placed(orderId), 1)]);
    expect(await summary(orderId)).toMatchObject({ status: 'PENDING', total: 900, version: 1 });

    await project([recorded(confirmed(orderId), 2)]);
    expect(await summary(orderId)).toMatchObject({
      status: 'CONFIRMED',
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 450 }],
      version: 2,
    });
  });

  it('summarizes an order from the state its command decided, without a row to move on', async () => {
    const orderId = randomUUID();
    const state = evolve(evolve(initialOrder, placed(orderId)), confirmed(orderId));
    await database.database.transaction((tx) =>
      projection.project(
        [recorded(confirmed(orderId), 2)],
        tx,
        new Map([[`order-${orderId}`, state]]),
      ),
    );
    expect(await summary(orderId)).toMatchObject({
      status: 'CONFIRMED',
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 450 }],
      total: 900,
      version: 2,
    });
  });

  it('never moves a row backwards when older history arrives again (a rebuild racing an append)', async () => {
    const orderId = randomUUID();
    await project([recorded(placed(orderId), 1), recorded(confirmed(orderId), 2)]);
    await project([recorded(placed(orderId), 1)]);
    expect(await summary(orderId)).toMatchObject({ status: 'CONFIRMED', version: 2 });
  });
});
