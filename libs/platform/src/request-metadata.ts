import type { Request } from 'express';

/**
 * What an event caused by this HTTP request records about its cause: the request id (pino's
 * `reqId`) is the causation, a caller-supplied `X-Correlation-Id` (or the request id) ties the
 * whole flow together, and `traceparent` links it to distributed traces.
 */
export function requestMetadata(request: Request, caller: { id: string }) {
  const requestId = String(request.id ?? '');
  const traceparent = request.header('traceparent');
  return {
    correlationId: request.header('x-correlation-id') ?? requestId,
    causationId: requestId,
    userId: caller.id,
    ...(traceparent ? { traceparent } : {}),
  };
}
