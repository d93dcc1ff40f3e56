import { context, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextOf, startSpan } from './tracing.js';

const spanOfRequest = new WeakMap<IncomingMessage, Span>();

/**
 * The trace ids of a request's span, for its access log line: pino-http writes that line once the
 * response has finished, outside the span's context, so it asks for them by request.
 */
export function requestTraceFields(request: IncomingMessage): {
  trace_id?: string;
  span_id?: string;
} {
  const span = spanOfRequest.get(request);
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

// Probes and scrapes come every few seconds and say nothing about an order.
const UNTRACED = /^\/(health|metrics)(\/|\?|$)/;

/**
 * A SERVER span for every request (OpenTelemetry's HTTP conventions), named by method and route
 * template, under the caller's `traceparent` if it sent a valid one. The rest of the request's
 * handling, Nest's included, runs inside it: what it causes (events, log lines) belongs to it.
 */
export function traceHttpRequests(fastify: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (UNTRACED.test(request.url)) return done();
    const route = request.routeOptions.url;
    const traceparent = request.headers.traceparent;
    const span = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      parent: typeof traceparent === 'string' ? traceparent : undefined,
      attributes: {
        'http.request.method': request.method,
        ...(route ? { 'http.route': route } : {}),
        'url.path': request.url.split('?', 1)[0],
        'client.address': request.ip,
      },
    });
    spans.set(request, span);
    spanOfRequest.set(request.raw, span);
    context.with(contextOf(span), done);
  });
  const end = (request: FastifyRequest, status?: number) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (status === undefined || status >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: status ? undefined : 'aborted' });
    }
    span.end();
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    end(request);
    done();
  });
}
