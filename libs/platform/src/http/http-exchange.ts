import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An HTTP request as the services' adapter (Fastify) hands it to guards, pipes and handlers. */
export type HttpRequest = FastifyRequest;
/** The response being built for it: status and headers set here go out with the handler's body. */
export type HttpResponse = FastifyReply;

/** A request header, or undefined; Node joins a header sent twice into one value. */
export function headerOf(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The request's path without its query, which can hold what a client would not want logged. */
export function pathOf(request: HttpRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

// A caller's id is kept so one request can be followed across services, but only if it is sane.
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The id of a request, given by Fastify as it arrives (its `genReqId`): the caller's
 * `X-Request-Id` if it is sane, else a new one. The response says it back (configureHttpApp),
 * and every log line of the request carries it as `reqId`.
 */
export function newRequestId(request: IncomingMessage): string {
  const offered = request.headers['x-request-id'];
  return typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered)
    ? offered
    : randomUUID();
}

/** The request's id (see newRequestId). */
export function requestIdOf(request: HttpRequest): string | undefined {
  const id: unknown = request.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
