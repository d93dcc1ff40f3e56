import type { Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import {
  ConfigurationError,
  environmentValidator,
  type ServiceEnvironment,
} from '../config/environment.js';
import { newRequestId } from '../http/http-exchange.js';
import { JSON_CONTENT_TYPES, MAX_BODY_BYTES, parseJsonBody } from '../http/json-body.js';
import { type OpenApiInfo, setUpOpenApi } from '../http/open-api.js';
import { PROBLEM_CONTENT_TYPE, ProblemDetailsFilter } from '../http/problem-details.filter.js';
import { type ProblemDetails, problemType } from '../http/problem.exception.js';
import { limitRates } from '../http/rate-limits.js';
import { createValidationPipe } from '../http/validation.js';
import { httpRequestDuration } from '../metrics/metrics.js';
import { PropagatedHeadersInterceptor } from '../request-metadata.js';
import type { ServiceDefinition } from '../service-definition.js';
import { traceHttpRequests } from '../tracing/http-tracing.js';
import { isTracing, startTracing } from '../tracing/tracing.js';
import { preflight, UnreachableDependencyError } from './preflight.js';

/**
 * A service asked to stop exits within this, finished or not: below the launcher's grace period
 * (15 s) and Docker's (10 s), so that it is never killed with its logs unwritten. What it had not
 * finished (a message in hand, a transaction in flight) is redelivered or rolled back.
 */
export const SHUTDOWN_DEADLINE_MS = 8000;

/**
 * The HTTP server every service runs on: Fastify, measured at about half the CPU per request of
 * Express on our own routes (bench/README.md). Bodies over MAX_BODY_BYTES are refused unread.
 * `trustProxy` (TRUST_PROXY) says which proxies' X-Forwarded-For gives the client's address.
 */
export function httpAdapter(trustProxy: ServiceEnvironment['TRUST_PROXY'] = false): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: MAX_BODY_BYTES,
    trustProxy,
    genReqId: newRequestId,
    // Node refuses what it cannot parse before any route sees it: headers over its 16 KiB limit
    // (431), a malformed request line (400). It is answered as problem details too.
    clientErrorHandler: answerClientError,
  });
}

function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  // Written on the socket by hand: no request exists yet for the problem-details filter to answer.
  const problem: ProblemDetails = {
    type: problemType(tooLarge ? 'headers-too-large' : 'bad-request'),
    title: tooLarge ? 'Request header fields too large' : 'Bad request',
    status,
    detail: tooLarge
      ? `The request's headers are over the limit of ${maxHeaderSize / 1024} KiB in all.`
      : 'The request is not well-formed HTTP.',
  };
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * How every service talks HTTP: JSON bodies up to MAX_BODY_BYTES, DTOs validated, every error
 * answered as problem details, OpenAPI at `/docs`. Tests call it too, so they test the real thing.
 * Call it before `listen()`, on an application created on `httpAdapter()` with `bodyParser: false`.
 */
export async function configureHttpApp(
  app: NestFastifyApplication,
  openApi: OpenApiInfo,
): Promise<void> {
  const config = app.get<ConfigService<ServiceEnvironment, true>>(ConfigService);
  const corsOrigins = config.get('CORS_ORIGINS', { infer: true });
  // Helmet 8's headers, set by Nest itself on every answer (errors and 404s included). The
  // default CSP lets /docs work (Swagger UI loads only same-origin scripts); only its upgrade of
  // insecure requests goes, which would break /docs where a service is reached over plain HTTP.
  app.useSecurityHeaders({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  // Browsers' pages from other origins may call only when an operator lists them (CORS_ORIGINS);
  // nothing else gets an Access-Control-Allow-Origin.
  if (corsOrigins.length > 0) {
    app.enableCors({
      origin: corsOrigins,
      allowedHeaders: [
        'Authorization',
        'Content-Type',
        'Idempotency-Key',
        'If-Match',
        'X-Request-Id',
        'X-Correlation-Id',
      ],
      exposedHeaders: ['Location', 'ETag', 'Retry-After', 'X-Request-Id'],
      maxAge: 600,
    });
  }
  // Before any route is added, so that it applies to every route.
  await limitRates(app);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
  if (isTracing()) traceHttpRequests(app.getHttpAdapter().getInstance());
  // By route template (`/orders/:orderId`), never by path: one series per route, not per order.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      httpRequestDuration.observe(
        {
          http_request_method: request.method,
          http_route: request.routeOptions.url ?? 'unmatched',
          http_response_status_code: reply.statusCode,
        },
        reply.elapsedTime / 1000,
      );
    });
  // Fastify's own parsers go: a body that is not JSON is refused with 415 rather than read as
  // text, and JSON is read by ours, which says where a syntax error is.
  app.getHttpAdapter().getInstance().removeAllContentTypeParsers();
  for (const type of JSON_CONTENT_TYPES) {
    app.useBodyParser(type, { bodyLimit: MAX_BODY_BYTES }, parseJsonBody);
  }
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new PropagatedHeadersInterceptor());
  // Here rather than as APP_FILTER: the error format is part of the HTTP surface tests share.
  app.useGlobalFilters(new ProblemDetailsFilter());
  setUpOpenApi(app, openApi);
}

/**
 * Starts a service the way users run it: configuration and dependencies are checked first and
 * explained in plain words when wrong, then the Nest application starts and listens.
 */
export async function runService<E extends ServiceEnvironment>(
  service: ServiceDefinition<E>,
  appModule: Type,
  configure?: (app: NestFastifyApplication) => void,
): Promise<NestFastifyApplication> {
  let environment: E;
  try {
    environment = environmentValidator(service.environment)(process.env);
    await preflight({
      databaseUrl: environment[service.databaseUrlVariable] as string,
      databaseUrlVariable: service.databaseUrlVariable,
      rabbitmqUrls: environment.RABBITMQ_URL,
    });
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof UnreachableDependencyError) {
      console.error(`The ${service.name} service cannot start. ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  if (environment.OTEL_EXPORTER_OTLP_ENDPOINT) {
    startTracing({
      service: environment.OTEL_SERVICE_NAME ?? service.name,
      endpoint: environment.OTEL_EXPORTER_OTLP_ENDPOINT,
      sampleRatio: environment.OTEL_TRACES_SAMPLER_ARG,
      exportDelayMs: environment.OTEL_BSP_SCHEDULE_DELAY,
    });
  }
  const app = await startHttpApp(
    service,
    appModule,
    environment[service.httpPortVariable] as number,
    configure,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        console.error(
          `The ${service.name} service did not stop within ${SHUTDOWN_DEADLINE_MS} ms of ` +
            `${signal}; exiting anyway.`,
        );
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }
  return app;
}

/**
 * The Nest half of `runService`, without its checks: what integration tests start, on port 0.
 * The application's own configuration is validated by its PlatformModule.
 */
export async function startHttpApp<E extends ServiceEnvironment>(
  service: ServiceDefinition<E>,
  appModule: Type,
  port: number,
  configure?: (app: NestFastifyApplication) => void,
): Promise<NestFastifyApplication> {
  // Checked again by the application's PlatformModule; the HTTP server needs this one first.
  const { TRUST_PROXY } = environmentValidator(service.environment)(process.env);
  const app = await NestFactory.create<NestFastifyApplication>(
    appModule,
    httpAdapter(TRUST_PROXY),
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  await configureHttpApp(app, {
    title: `${service.name} service`,
    description: `The HTTP API of the ${service.name} service. Errors are RFC 9457 problem details.`,
    version: '1',
  });
  app.enableShutdownHooks();
  configure?.(app);
  // Consumers connected by `configure` start before HTTP, and stop after it on shutdown.
  await app.startAllMicroservices();
  // Every interface, as a container needs (Fastify alone would listen on localhost only).
  await app.listen(port, '0.0.0.0');
  return app;
}
