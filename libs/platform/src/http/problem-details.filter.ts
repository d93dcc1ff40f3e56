import { STATUS_CODES } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { throwError } from 'rxjs';
import { isTransient } from '../database/transient.js';
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

    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    const { problem, headers } = this.answer(exception, request);
    // RFC 9110 requires a challenge with every 401; Bearer is the only scheme the services take.
    if (problem.status === HttpStatus.UNAUTHORIZED && !hasHeader(headers, 'www-authenticate')) {
      headers['WWW-Authenticate'] = 'Bearer';
    }
    if (response.headersSent) {
      // Part of a response is out (a stream failed): all that is left is to cut it short.
      response.end();
      return;
    }
    response
      .status(problem.status)
      .set(headers)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify({ ...problem, instance: pathOf(request) }));
  }

  private answer(exception: unknown, request: Request): Answer {
    if (exception instanceof ProblemException) {
      return { problem: exception.getResponse(), headers: { ...exception.headers } };
    }
    if (exception instanceof HttpException) {
      return fromBodyParser(exception.cause) ?? fromHttpException(exception);
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

function pathOf(request: Request): string {
  // The query is left out: it can hold what a client would not want repeated in logs.
  return new URL(request.originalUrl, 'http://host').pathname;
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
 * Errors of Express's body parser reach the filters wrapped in an HttpException whose `cause`
 * is the parser's own error (Nest's Express adapter maps them); its `type` says what went wrong.
 */
function fromBodyParser(cause: unknown): Answer | undefined {
  if (typeof cause !== 'object' || cause === null || !('type' in cause)) return undefined;
  const error = cause as {
    type: unknown;
    message: string;
    body?: string;
    limit?: number;
    length?: number;
  };
  switch (error.type) {
    case 'entity.parse.failed':
      return {
        problem: {
          type: problemType('malformed-json'),
          title: 'Malformed JSON',
          status: HttpStatus.BAD_REQUEST,
          detail: `The request body is not valid JSON: ${error.message}${lineAndColumn(error)}.`,
        },
        headers: {},
      };
    case 'entity.too.large':
      return {
        problem: {
          type: problemType('payload-too-large'),
          title: 'Payload too large',
          status: HttpStatus.PAYLOAD_TOO_LARGE,
          // A chunked body has no announced length: it is refused once it has gone over.
          detail:
            `The request body${error.length === undefined ? '' : ` (${error.length} bytes)`} is ` +
            `over the limit of ${kibibytes(error.limit)} (${error.limit} bytes).`,
          maxBytes: error.limit,
        },
        headers: {},
      };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return {
        problem: {
          type: problemType('unsupported-media-type'),
          title: 'Unsupported media type',
          status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          detail: `${error.message}; send the body as UTF-8 JSON, uncompressed or gzip/deflate/br.`,
        },
        headers: {},
      };
    default:
      return undefined;
  }
}

function kibibytes(bytes = 0): string {
  return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
}

/** V8 names a character offset; people editing a request body think in lines and columns. */
function lineAndColumn(error: { message: string; body?: string }): string {
  const position = /at position (\d+)/.exec(error.message);
  if (!position || error.body === undefined) return '';
  const before = error.body.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
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
