import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../http/http-exchange.js';

/** Who sent a request, as its bearer token says. */
export interface Caller {
  /** The token's `sub`: a customer id. */
  id: string;
  roles: string[];
  isAdmin: boolean;
}

// Kept off the request object itself, so nothing else can set or spoof it by accident.
const callers = new WeakMap<object, Caller>();

export function rememberCaller(request: object, caller: Caller): void {
  callers.set(request, caller);
}

/** The authenticated caller of a request; throws on a `@Public()` route, which has none. */
export function callerOf(request: object): Caller {
  const caller = callers.get(request);
  if (caller === undefined) {
    throw new Error('This request has no authenticated caller: is its route marked @Public()?');
  }
  return caller;
}

/** The authenticated caller, as a handler parameter: `@Caller() caller: Caller`. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  callerOf(context.switchToHttp().getRequest<HttpRequest>()),
);
