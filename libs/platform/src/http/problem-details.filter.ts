import { STATUS_CODES } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { throwError } from 'rxjs';
import { isTransient } from '../database/transient.js';
import { type HttpRequest, type HttpResponse, pathOf } from './http-exchange.js';
import { payloadTooLarge } from './json-body.js';
import { type ProblemDetails, ProblemException, problemType } from './problem.exception.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

interface Answer {
  problem: ProblemDetails;
  headers: Record<string, string>;
}

/**
 * Answers every error of an HTTP request with `application/problem+json` (RFC 9457). A
 * `ProblemException` goes out as thrown; other HTTP exceptions get a type named after their
 * status; anything else is a fault of ours: logged with its stack, answered with no detail.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost) {
    // RabbitMQ handlers have nobody to answer; their transport deals with the error.
    if (host.getType() !== 'http') return throwError(() => exception);

    const request = host.switchToHttp().getRequest<HttpRequest>();
    const response = host.switchToHttp().getResponse<HttpResponse>();
    const { problem, headers } = this.answer(exception, request);
    // RFC 9110 requires a challenge with every 401; Bearer is the only scheme the services take.
    if (problem.status === HttpStatus.UNAUTHORIZED && !hasHeader(headers, 'www-authenticate')) {
      headers['WWW-Authenticate'] = 'Bearer';
    }
    if (response.sent || response.raw.headersSent) {
      // Part of a response is out (a stream failed): all that is left is to cut it short.
      response.raw.end();
      return;
    }
    void response
      .status(problem.status)
      .headers(headers)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify({ ...problem, instance: pathOf(request) }));
  }

  private answer(exception: unknown, request: HttpRequest): Answer {
    if (exception instanceof ProblemException) {
      return { problem: exception.getResponse(), headers: { ...exception.headers } };
    }
    if (exception instanceof HttpException) {
      return fromHttpServer(exception.cause, request) ?? fromHttpException(exception);
    }
    if (isTransient(exception)) {
      // Nothing of the request was committed (or it was, and a retry with its Idempotency-Key
      // is answered as it was): the client may simply retry.
      this.logger.warn(`${request.method} ${pathOf(request)}: ${describe(exception)}`);
      return {
        problem: {
          type: problemType('service-unavailable'),
          title: 'Service temporarily unavailable',
          status: HttpStatus.SERVICE_UNAVAILABLE,
          detail:
            'A dependency of this service failed while the request was being handled; ' +
            'retry it (with the same Idempotency-Key, if it changes anything).',
        },
        headers: { 'Retry-After': '1' },
      };
    }
    const stack = exception instanceof Error && exception.stack ? [exception.stack] : [];
    this.logger.error(
      `${request.method} ${pathOf(request)} failed: ${describe(exception)}`,
      ...stack,
    );
    return {
      problem: {
        type: problemType('internal-error'),
        title: 'Internal server error',
        status: HttpStatus.INTERNAL_SERVER_ERROR,
        detail: 'The request could not be completed because of an error on our side.',
      },
      headers: {},
    };
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function describe(exception: unknown): string {
  return exception instanceof Error ? exception.message : String(exception);
}

function slugOf(status: number): string {
  return (STATUS_CODES[status] ?? `status ${status}`).toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/**
 * A request Fastify refused before any of ours ran reaches the filters as an HttpException whose
 * `cause` is Fastify's error (Nest's adapter maps them), named by a `FST_ERR_…` code. Going over
 * the body limit gets the 413 that names it; the others keep their status and Fastify's words.
 */
function fromHttpServer(cause: unknown, request: HttpRequest): Answer | undefined {
  if (
    !(cause instanceof Error) ||
    (cause as { code?: unknown }).code !== 'FST_ERR_CTP_BODY_TOO_LARGE'
  ) {
    return undefined;
  }
  const announced = Number(request.headers['content-length']);
  const problem = payloadTooLarge(Number.isSafeInteger(announced) ? announced : undefined);
  return { problem: problem.getResponse(), headers: {} };
}

function fromHttpException(exception: HttpException): Answer {
  const status = exception.getStatus();
  const body = exception.getResponse();
  const problem: ProblemDetails = {
    type: problemType(slugOf(status)),
    title: STATUS_CODES[status] ?? 'Error',
    status,
  };
  // An Error given as the body is only for logs (Nest's own convention): its message stays here.
  if (typeof body === 'string') {
    problem.detail = body;
  } else if (typeof body === 'object' && body !== null && !(body instanceof Error)) {
    // Nest's shape is `{ statusCode, message, error }`; anything else a library put in the
    // body (Terminus's health report, say) is kept as extensions rather than lost.
    const { message, error, ...rest } = body as Record<string, unknown>;
    delete rest.statusCode;
    if (typeof message === 'string') problem.detail = message;
    else if (Array.isArray(message)) problem.detail = message.map(String).join('; ');
    if (error !== undefined && typeof error !== 'string') rest.error = error;
    for (const [name, value] of Object.entries(rest)) {
      if (!(name in problem) && name !== 'detail' && name !== 'instance') problem[name] = value;
    }
  }
  return { problem, headers: {} };
}
