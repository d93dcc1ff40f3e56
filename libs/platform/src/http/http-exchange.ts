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

/** The request id the logger gave the request (from a sane `X-Request-Id`, or made up). */
export function requestIdOf(request: HttpRequest): string | undefined {
  const id = (request.raw as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
