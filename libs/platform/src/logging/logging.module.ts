import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceEnvironment } from '../config/environment.js';
import { traceFields } from '../tracing/tracing.js';

const REQUEST_ID_HEADER = 'x-request-id';
// A caller's id is kept so one request can be followed across services, but only if it is sane.
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

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
        genReqId: (request: IncomingMessage, response: ServerResponse) => {
          const offered = request.headers[REQUEST_ID_HEADER];
          const id =
            typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered)
              ? offered
              : randomUUID();
          response.setHeader(REQUEST_ID_HEADER, id);
          return id;
        },
        redact: ['req.headers.authorization', 'req.headers.cookie'],
        autoLogging: {
          ignore: (request: IncomingMessage) => request.url?.startsWith('/health') === true,
        },
      },
      microservice: true,
    }),
  });
}
