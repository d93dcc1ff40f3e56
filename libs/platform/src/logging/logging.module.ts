import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceEnvironment } from '../config/environment.js';
import { requestTraceFields } from '../tracing/http-tracing.js';
import { traceFields } from '../tracing/tracing.js';

/**
 * Structured logs for one service: JSON lines (or pretty ones at a terminal) where every line
 * written while handling a request carries that request's `reqId`.
 */
export function loggingModule(service: string) {
  return LoggerModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (config: ConfigService<ServiceEnvironment, true>) => ({
      pinoHttp: {
        name: service,
        level: config.get('LOG_LEVEL', { infer: true }),
        transport:
          config.get('LOG_FORMAT', { infer: true }) === 'pretty'
            ? {
                target: 'pino-pretty',
                options: {
                  singleLine: true,
                  ignore: 'pid,hostname',
                  translateTime: 'SYS:HH:MM:ss.l',
                },
              }
            : undefined,
        quietReqLogger: true,
        // Every line written inside a span (a request, a message) says which trace it is part of.
        mixin: traceFields,
        // ...and so does the access log line, written once the response has gone.
        customProps: requestTraceFields,
        redact: ['req.headers.authorization', 'req.headers.cookie'],
        autoLogging: {
          ignore: (request: IncomingMessage) => request.url?.startsWith('/health') === true,
        },
      },
      // Every route. nestjs-pino's default ("{/*splat}") matches no request on Nest 12's Fastify
      // adapter: nothing was logged per request. Its `reqId` is Fastify's request id, which the
      // Fastify adapter hands on with the request (newRequestId).
      forRoutes: [{ path: '*', method: RequestMethod.ALL }],
      microservice: true,
    }),
  });
}
