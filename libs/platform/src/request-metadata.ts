import { randomUUID } from 'node:crypto';
import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { headerOf, type HttpRequest, requestIdOf } from './http/http-exchange.js';
import { invalidHeader } from './http/problem.exception.js';
import { currentTraceparent, isValidTraceparent } from './tracing/tracing.js';

const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Headers a client sends that end up in our events are data, not trust: checked before any
 * handler reads them. An invalid `traceparent` is dropped, as W3C Trace Context asks (the trace
 * starts here instead), together with its `tracestate`; an `X-Correlation-Id` that is empty, too
 * long or not visible ASCII is refused with 400, naming the header. (`X-Request-Id` is checked
 * where the request id is made: an unacceptable one is replaced.)
 */
@Injectable()
export class PropagatedHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const { headers } = context.switchToHttp().getRequest<HttpRequest>();
    const traceparent = headers.traceparent;
    if (
      traceparent !== undefined &&
      !(typeof traceparent === 'string' && isValidTraceparent(traceparent))
    ) {
      delete headers.traceparent;
      delete headers.tracestate;
    }
    const correlationId = headers['x-correlation-id'];
    if (
      correlationId !== undefined &&
      !(typeof correlationId === 'string' && CORRELATION_ID.test(correlationId))
    ) {
      throw invalidHeader('X-Correlation-Id', {
        type: 'invalid-correlation-id',
        detail: 'An X-Correlation-Id is 1 to 128 visible ASCII characters, given once.',
        message: 'must be 1 to 128 visible ASCII characters',
      });
    }
    return next.handle();
  }
}

/**
 * What an event caused by this HTTP request records about its cause: the request id (pino's
 * `reqId`) is the causation, a caller-supplied `X-Correlation-Id` (or the request id) ties the
 * whole flow together, and `traceparent` places it in the distributed trace. The headers were
 * checked by PropagatedHeadersInterceptor; they are checked again here, so that nothing
 * unchecked can reach an event even from a route set up without it.
 */
export function requestMetadata(request: HttpRequest, caller: { id: string }) {
  const requestId = requestIdOf(request) ?? randomUUID();
  const correlationId = headerOf(request, 'x-correlation-id');
  // The request's own span when tracing, else the caller's context passed on as it came.
  const traced = currentTraceparent(headerOf(request, 'traceparent'));
  return {
    correlationId:
      correlationId !== undefined && CORRELATION_ID.test(correlationId) ? correlationId : requestId,
    causationId: requestId,
    userId: caller.id,
    ...(traced ? { traceparent: traced } : {}),
  };
}
