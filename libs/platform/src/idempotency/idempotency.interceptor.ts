import { ApiHeader } from '@nestjs/swagger';
import {
  createParamDecorator,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, from, of, switchMap, throwError, type Observable } from 'rxjs';
import { callerOf } from '../auth/caller.js';
import { headerOf, type HttpRequest, type HttpResponse, pathOf } from '../http/http-exchange.js';
import { invalidHeader, ProblemException } from '../http/problem.exception.js';
import {
  IdempotencyKeys,
  requestHash,
  type IdempotentRequest,
  type PriorOutcome,
  type StoredResponse,
} from './idempotency-keys.js';

const HEADER = 'idempotency-key';
const ACCEPTABLE_KEY = /^[\x21-\x7e]{1,255}$/;
const requests = new WeakMap<HttpRequest, IdempotentRequest>();

/**
 * The request's Idempotency-Key, for the command that records its response in its own
 * transaction (IdempotencyKeys.record); undefined when the request carries none.
 */
export const Idempotency = createParamDecorator(
  (_: unknown, context: ExecutionContext): IdempotentRequest | undefined =>
    requests.get(context.switchToHttp().getRequest<HttpRequest>()),
);

/** Sends a response the way a replay of it would be sent; returns its body. */
export function respondWith(response: HttpResponse, stored: StoredResponse): unknown {
  void response.status(stored.status).headers(stored.headers);
  return stored.body;
}

/** Documents the `Idempotency-Key` header of a route that honours it, with its bounds. */
export const ApiIdempotencyKey = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retry safely with it: a retry with the same key gets the first answer',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
  });

/**
 * Honours an `Idempotency-Key` header on the route it decorates. A retry with the same key and
 * body gets the first response again without running anything; the same key with another body
 * is refused (422). The route's command records its response in the transaction of its change,
 * so a request that died left nothing behind, and its retry simply runs. Two requests with one
 * key running at once: the one that commits second changes nothing and gets the first one's
 * response. Keys belong to the caller.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly keys: IdempotencyKeys) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<HttpResponse>();
    const key = headerOf(request, HEADER);
    if (key === undefined) return next.handle();
    if (!ACCEPTABLE_KEY.test(key)) {
      throw invalidHeader('Idempotency-Key', {
        type: 'invalid-idempotency-key',
        detail: 'An Idempotency-Key is 1 to 255 visible ASCII characters.',
        message: 'must be 1 to 255 visible ASCII characters',
      });
    }
    const idempotent: IdempotentRequest = {
      callerId: callerOf(request).id,
      key,
      requestHash: requestHash(request.method, pathOf(request), request.body),
    };
    const answered = this.answer(await this.keys.prior(idempotent), key, response);
    if (answered) return answered;
    requests.set(request, idempotent);
    return next.handle().pipe(
      // Failed, perhaps because a request with the same key committed first: answer as it did.
      catchError((error: unknown) =>
        from(this.keys.prior(idempotent).catch((): PriorOutcome => ({ outcome: 'none' }))).pipe(
          switchMap((prior) => this.answer(prior, key, response) ?? throwError(() => error)),
        ),
      ),
    );
  }

  private answer(prior: PriorOutcome, key: string, response: HttpResponse) {
    switch (prior.outcome) {
      case 'none':
        return undefined;
      case 'mismatch':
        return throwError(
          () =>
            new ProblemException(422, {
              type: 'idempotency-key-reused',
              title: 'Idempotency-Key already used for another request',
              detail: `The key "${key}" was first used with a different request; use a new key.`,
            }),
        );
      case 'replay':
        void response.header('Idempotent-Replayed', 'true');
        return of(respondWith(response, prior.response));
    }
  }
}
