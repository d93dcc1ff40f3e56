import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import {
  type Attributes,
  context,
  type Context,
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanContext,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export { SpanKind };

const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A W3C `traceparent` we can pass on (version 00's shape; all-zero ids are invalid). */
export function isValidTraceparent(value: string): boolean {
  return TRACEPARENT.test(value);
}

/**
 * Spans are made by hand where work crosses a boundary (an HTTP request, the outbox, a publish,
 * a consumed message, a delivery), not by auto-instrumentation: that needs loader hooks in an ESM
 * process, and it would see TypeORM's and amqplib's calls, not our units of work. Until
 * `startTracing` runs (and when OTEL_EXPORTER_OTLP_ENDPOINT is unset it never does) this tracer
 * is OpenTelemetry's no-op one: a span is then its parent's context passed on unchanged, so a
 * caller's traceparent still flows through the outbox to every service, as W3C Trace Context asks
 * of a party that does not trace.
 */
const tracer = trace.getTracer('ordering');
let provider: TracerProvider | undefined;

export interface TracingSettings {
  service: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); the exporter appends `/v1/traces`. */
  endpoint: string;
  /** Share of new traces recorded; a caller's sampling decision is followed as it is. */
  sampleRatio: number;
  /** How long ended spans wait before they are sent in a batch. */
  exportDelayMs: number;
}

/** Turns tracing on for this process: spans are recorded and exported over OTLP/HTTP (JSON). */
export function startTracing(settings: TracingSettings): void {
  if (provider) return;
  provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.service,
      'service.instance.id': `${hostname()}:${process.pid}`,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        // The exporter reads OTEL_EXPORTER_OTLP_HEADERS and the other OTLP variables itself.
        exporter: new OTLPTraceExporter({
          url: `${settings.endpoint.replace(/\/$/, '')}/v1/traces`,
        }),
        scheduledDelayMillis: settings.exportDelayMs,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  // OpenTelemetry says nothing by default: an operator must hear when spans cannot be exported.
  const logger = new Logger('OpenTelemetry');
  const quiet = () => undefined;
  diag.setLogger(
    {
      error: (message) => logger.error(message),
      warn: (message) => logger.warn(message),
      info: quiet,
      debug: quiet,
      verbose: quiet,
    },
    DiagLogLevel.WARN,
  );
}

/** Sends what has ended and stops: at shutdown, so the last spans are not lost with the process. */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = undefined;
  await stopping?.shutdown();
}

export const isTracing = (): boolean => provider !== undefined;

/** A W3C traceparent as the remote parent it names, or nothing when it is not a valid one. */
function remoteParent(traceparent: string | undefined): SpanContext | undefined {
  if (traceparent === undefined || !isValidTraceparent(traceparent)) return undefined;
  const [, traceId, spanId, flags] = traceparent.split('-');
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 1, isRemote: true };
}

function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 1).toString(16).padStart(2, '0')}`;
}

/** The context of a span, for a message or a row to carry: nothing when there is none. */
export function traceparentOf(span: Span): string | undefined {
  const spanContext = span.spanContext();
  return trace.isSpanContextValid(spanContext) ? formatTraceparent(spanContext) : undefined;
}

/**
 * Where what is caused now belongs in the trace: the span this code runs in when tracing, else
 * `inherited` (the cause's own traceparent), passed on as it came.
 */
export function currentTraceparent(inherited?: string): string | undefined {
  const span = trace.getActiveSpan();
  return (
    (span && traceparentOf(span)) ?? (isValidTraceparent(inherited ?? '') ? inherited : undefined)
  );
}

export interface SpanOptions {
  kind: SpanKind;
  attributes?: Attributes;
}

/**
 * Starts a span for work caused by what `parent` (a traceparent carried by a header, a message
 * or a row) names: a new trace when it carries none, or none that is valid.
 */
export function startSpan(name: string, options: SpanOptions & { parent?: string }): Span {
  const remote = remoteParent(options.parent);
  return tracer.startSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT,
  );
}

/** Starts a span inside the one code runs in (a new trace when it runs in none). */
export function startChildSpan(name: string, options: SpanOptions): Span {
  return tracer.startSpan(name, options, context.active());
}

export const contextOf = (span: Span): Context => trace.setSpan(ROOT_CONTEXT, span);

/** Ends a span as failed, with the error that failed it. */
export function endFailed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}

/** Runs `work` inside `span` and ends it when the work settles: failed if it throws. */
export async function runInSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    const result = await context.with(contextOf(span), work);
    span.end();
    return result;
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
}

/** The trace ids of the span code runs in, for its log lines. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  if (!provider) return {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
