import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
    /** Records spans, fails one, and stops tracing: what the tests below look at, done once. */
    async function recordThenStop() {
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
      const delivering = runInSpan(
        startSpan('deliver log', { kind: SpanKind.CLIENT }),
        async () => {
          throw new Error('SMTP refused');
        },
      );
      await delivering.catch(() => undefined);
      // Ended spans are sent at the latest when tracing stops, whatever the export delay.
      await stopTracing();

      const { spanId } = consumer.spanContext();
      const byName = Object.fromEntries(receiver.spans.map((span) => [span.name, span]));
      return { spanId, inside, delivering, byName };
    }

    let recorded: Awaited<ReturnType<typeof recordThenStop>>;
    beforeAll(async () => {
      recorded = await recordThenStop();
    });

    it('exports every ended span when tracing stops, whatever the export delay', () => {
      expect(receiver.spans.map((span) => span.name).sort()).toEqual([
        'GET /orders/:orderId',
        'deliver log',
        'process queue',
      ]);
    });

    it('records a span under the parent its cause carried', () => {
      expect(recorded.byName['process queue']).toMatchObject({
        service: 'unit',
        traceId: TRACE_ID,
        parentSpanId: '00f067aa0ba902b7',
        kind: 5,
      });
    });

    it('places what runs inside a span in it: what it causes and its log lines carry that span', () => {
      const { spanId, inside } = recorded;
      expect(inside.traceparent).toBe(`00-${TRACE_ID}-${spanId}-01`);
      expect(inside.fields).toEqual({ trace_id: TRACE_ID, span_id: spanId });
    });

    it('records a child span under the span it was started in', () => {
      expect(recorded.byName['GET /orders/:orderId']).toMatchObject({
        traceId: TRACE_ID,
        parentSpanId: recorded.spanId,
      });
    });

    it('records a span whose work throws as failed, and passes the error on', async () => {
      await expect(recorded.delivering).rejects.toThrow('SMTP refused');
      expect(recorded.byName['deliver log']).toMatchObject({ statusCode: 2 });
    });

    it('starts a trace of its own for a span whose cause carried no parent', () => {
      expect(recorded.byName['deliver log']).toMatchObject({ parentSpanId: '' });
      expect(recorded.byName['deliver log'].traceId).not.toBe(TRACE_ID);
    });
  });
});
