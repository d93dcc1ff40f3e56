import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { catchError, concatMap, from, of, throwError, type Observable } from 'rxjs';
import { callerOf } from '../auth/caller.js';
import { ProblemException } from '../http/problem.exception.js';
import { IdempotencyKeys, requestHash } from './idempotency-keys.js';

const HEADER = 'idempotency-key';
const ACCEPTABLE_KEY = /^[\x21-\x7e]{1,255}$/;
/** The response headers a replay must repeat: the rest are about the connection. */
const REPLAYED_HEADERS = ['location', 'etag', 'content-location'];

/**
 * Honours an `Idempotency-Key` header on the route it decorates: the first request with a key
 * runs and its response is stored; a retry with the same key and body gets that response again
 * without running anything; the same key with another body is refused (422), and so is a retry
 * while the first is still running (409). Keys belong to the caller.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly keys: IdempotencyKeys) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    const key = request.header(HEADER);
    if (key === undefined) return next.handle();
    if (!ACCEPTABLE_KEY.test(key)) {
      throw new ProblemException(400, {
        type: 'invalid-idempotency-key',
        title: 'Invalid Idempotency-Key header',
        detail: 'An Idempotency-Key is 1 to 255 visible ASCII characters.',
        errors: [
          { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
        ],
      });
    }
    const callerId = callerOf(request).id;
    const claim = await this.keys.claim(
      callerId,
      key,
      requestHash(request.method, request.path, request.body),
    );

    switch (claim.outcome) {
      case 'mismatch':
        throw new ProblemException(422, {
          type: 'idempotency-key-reused',
          title: 'Idempotency-Key already used for another request',
          detail: `The key "${key}" was first used with a different request; use a new key.`,
        });
      case 'in-flight':
        throw new ProblemException(409, {
          type: 'request-in-flight',
          title: 'A request with this Idempotency-Key is still being processed',
          detail: 'Retry once it has finished to get its response.',
        });
      case 'replay':
        response.status(claim.response.status);
        for (const [name, value] of Object.entries(claim.response.headers)) {
          response.setHeader(name, value);
        }
        response.setHeader('Idempotent-Replayed', 'true');
        return of(claim.response.body);
      case 'claimed':
        return next.handle().pipe(
          concatMap(async (body) => {
            await this.keys.complete(callerId, key, {
              status: response.statusCode,
              headers: replayedHeaders(response),
              body,
            });
            return body;
          }),
          // A failed request leaves nothing to replay: the key is free for a corrected retry.
          catchError((error: unknown) =>
            from(this.keys.release(callerId, key)).pipe(concatMap(() => throwError(() => error))),
          ),
        );
    }
  }
}

function replayedHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = response.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}
