import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  eventually,
  OrderingSystem,
  OtlpReceiver,
  type ReceivedSpan,
  tokenFor,
} from '@ordering/testing';
import { randomBytes, randomUUID } from 'node:crypto';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

describe('One trace per order, exported over OTLP by every service', () => {
  const receiver = new OtlpReceiver();
  let system: OrderingSystem;

  beforeAll(async () => {
    await receiver.start();
    system = new OrderingSystem({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      LOG_LEVEL: 'info',
    });
    await system.start();
  }, 90_000);
  afterAll(async () => {
    await system?.stop();
    await receiver.stop();
  });

  /** Places an order as a caller whose own span is `00-<traceId>-<callerSpanId>-01`. */
  async function placeTracedOrder(sku: string, quantity: number) {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const placed = await system.http('order')('POST', '/orders', {
      token: tokenFor('tracing-1'),
      body: { items: [{ sku, quantity }] },
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(placed.status).toBe(202);
    return { orderId: placed.body.orderId as string, traceId, callerSpanId };
  }

  /** The span of `spans` that `span` names as its parent. */
  const parentOf = (spans: ReceivedSpan[], span: ReceivedSpan) =>
    spans.find((candidate) => candidate.spanId === span.parentSpanId);

  it('links POST /orders, the outbox, RabbitMQ, inventory, the saga and the notification in one trace', async () => {
    const sku = `TRACE-${randomUUID().slice(0, 6)}`.toUpperCase();
    await system.stock(sku, 5);
    const { orderId, traceId, callerSpanId } = await placeTracedOrder(sku, 1);
    await system.orderReaches(orderId, ['CONFIRMED']);

    // The delivery of the confirmation is the last link of the chain: wait until it is exported.
    const spans = await eventually(() => {
      const trace = receiver.trace(traceId);
      expect(trace.filter((span) => span.name === 'deliver log')).toHaveLength(1);
      expect(trace.filter((span) => span.kind === CONSUMER)).toHaveLength(4);
      return trace;
    });

    // Connected: every span's parent is in the trace, but the order service's request span's,
    // which is the caller's.
    const orphans = spans.filter((span) => !parentOf(spans, span));
    expect(orphans.map((span) => [span.service, span.name, span.parentSpanId])).toEqual([
      ['order', 'POST /orders', callerSpanId],
    ]);
    expect(new Set(spans.map((span) => span.service))).toEqual(
      new Set(['order', 'inventory', 'notification']),
    );
    expect(spans.filter((span) => span.statusCode === 2)).toEqual([]);

    // From the delivery back to the request, hop by hop, each the child of the one before.
    const chain: [string, number, string][] = [];
    for (
      let span = spans.find((s) => s.name === 'deliver log');
      span;
      span = parentOf(spans, span)
    ) {
      chain.push([span.service, span.kind, span.name]);
    }
    expect(chain.reverse()).toEqual([
      ['order', SERVER, 'POST /orders'],
      ['order', PRODUCER, 'publish order.events'],
      ['inventory', CONSUMER, 'process inventory.order.events'],
      ['inventory', PRODUCER, 'publish inventory.events'],
      ['order', CONSUMER, 'process order.inventory.events'],
      ['order', PRODUCER, 'publish order.events'],
      ['notification', CONSUMER, 'process notification.order.events'],
      ['notification', CLIENT, 'deliver log'],
    ]);

    // The messaging conventions' attributes name what each hop moved.
    const published = spans.filter((span) => span.kind === PRODUCER);
    expect(
      published.map((span) => span.attributes['messaging.rabbitmq.destination.routing_key']),
    ).toEqual(expect.arrayContaining(['order.placed', 'inventory.reserved', 'order.confirmed']));
    const consumed = spans.filter((span) => span.kind === CONSUMER);
    expect(consumed.map((span) => span.attributes['cloudevents.event_type']).sort()).toEqual([
      'inventory.reserved',
      'order.confirmed',
      'order.placed',
      'order.placed',
    ]);
    expect(consumed.every((span) => span.attributes['messaging.system'] === 'rabbitmq')).toBe(true);
  });

  it('writes the trace id and span id on the log lines of the request and the message it traces', async () => {
    const sku = `TRACE-${randomUUID().slice(0, 6)}`.toUpperCase();
    await system.stock(sku, 5);
    const { orderId, traceId } = await placeTracedOrder(sku, 1);
    await system.orderReaches(orderId, ['CONFIRMED']);
    const spans = await eventually(() => {
      const trace = receiver.trace(traceId);
      expect(trace.filter((s) => s.service === 'order' && s.kind === CONSUMER)).toHaveLength(1);
      expect(trace.filter((s) => s.service === 'order' && s.kind === SERVER)).toHaveLength(1);
      return trace;
    });
    const spanOf = (name: string) => spans.find((s) => s.service === 'order' && s.name === name)!;
    const lines = system
      .service('order')
      .output.split('\n')
      .filter((line) => line.includes(traceId))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'request completed',
        trace_id: traceId,
        span_id: spanOf('POST /orders').spanId,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'event completed',
        trace_id: traceId,
        span_id: spanOf('process order.inventory.events').spanId,
      }),
    );
  });

  it('starts a trace of its own for a request without a valid traceparent, and records none for probes', async () => {
    const before = receiver.spans.length;
    const answer = await system.http('order')('GET', `/orders/${randomUUID()}`, {
      token: tokenFor('tracing-2'),
      headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
    });
    expect(answer.status).toBe(404);
    await fetch(`${system.service('order').url}/health`);
    const span = await eventually(() => {
      const found = receiver.spans
        .slice(before)
        .find(
          (s) =>
            s.name === 'GET /orders/:orderId' && s.attributes['http.response.status_code'] === 404,
        );
      expect(found).toBeDefined();
      return found!;
    });
    expect(span.parentSpanId).toBe('');
    expect(span.traceId).not.toBe('00000000000000000000000000000000');
    expect(
      receiver.spans.slice(before).filter((s) => s.attributes['url.path'] === '/health'),
    ).toEqual([]);
  });
});
