import { afterAll, describe, expect, it } from '@jest/globals';
import { OtlpReceiver } from '@ordering/testing';
import {
  currentTraceparent,
  runInSpan,
  SpanKind,
  startChildSpan,
  startSpan,
  startTracing,
  stopTracing,
  traceFields,
  traceparentOf,
} from './tracing.js';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

// One file, in this order: tracing is process-wide once started.
describe('Tracing helpers', () => {
  const receiver = new OtlpReceiver();
  afterAll(() => receiver.stop());

  describe('while tracing is off', () => {
    it("passes the cause's traceparent on unchanged, as a party that does not trace must", () => {
      const span = startSpan('publish order.events', { kind: SpanKind.PRODUCER, parent: CALLER });
      expect(traceparentOf(span)).toBe(CALLER);
      expect(currentTraceparent(CALLER)).toBe(CALLER);
      expect(traceFields()).toEqual({});
    });

    it('passes on nothing for a cause without a valid traceparent', () => {
      expect(traceparentOf(startSpan('x', { kind: SpanKind.CONSUMER }))).toBeUndefined();
      expect(currentTraceparent('00-abc')).toBeUndefined();
      expect(
        currentTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'),
      ).toBeUndefined();
    });
  });

  describe('while tracing', () => {
    it('records spans under the carried parent, places what runs inside them, and exports them at stop', async () => {
      await receiver.start();
      startTracing({
        service: 'unit',
        endpoint: receiver.url,
        sampleRatio: 1,
        exportDelayMs: 10_000,
      });

      const consumer = startSpan('process queue', { kind: SpanKind.CONSUMER, parent: CALLER });
      const inside = await runInSpan(consumer, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const client = startChildSpan('GET /orders/:orderId', { kind: SpanKind.CLIENT });
        await runInSpan(client, async () => undefined);
        return { traceparent: currentTraceparent(CALLER), fields: traceFields(), client };
      });
      await expect(
        runInSpan(startSpan('deliver log', { kind: SpanKind.CLIENT }), async () => {
          throw new Error('SMTP refused');
        }),
      ).rejects.toThrow('SMTP refused');
      // Ended spans are sent at the latest when tracing stops, whatever the export delay.
      await stopTracing();

      const { spanId } = consumer.spanContext();
      expect(inside.traceparent).toBe(`00-${TRACE_ID}-${spanId}-01`);
      expect(inside.fields).toEqual({ trace_id: TRACE_ID, span_id: spanId });
      const byName = Object.fromEntries(receiver.spans.map((span) => [span.name, span]));
      expect(byName['process queue']).toMatchObject({
        service: 'unit',
        traceId: TRACE_ID,
        parentSpanId: '00f067aa0ba902b7',
        kind: 5,
      });
      expect(byName['GET /orders/:orderId']).toMatchObject({
        traceId: TRACE_ID,
        parentSpanId: spanId,
      });
      expect(byName['deliver log']).toMatchObject({ parentSpanId: '', statusCode: 2 });
      expect(byName['deliver log'].traceId).not.toBe(TRACE_ID);
    });
  });
});
