import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest } from '../http/http-exchange.js';
import { ProblemException } from '../http/problem.exception.js';
import { type Caller, rememberCaller } from './caller.js';
import { bearerToken, BearerTokens, TokenRefusedError } from './bearer-tokens.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Lets an HTTP request through only with `Authorization: Bearer <JWT>` that BearerTokens accepts
 * (signed by a trusted issuer, for this audience, not expired, naming its caller in `sub`),
 * unless the route is `@Public()`.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: BearerTokens,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Messages from the broker carry no token: their sender was checked when it was called.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    rememberCaller(request, await this.authenticate(request.headers.authorization));
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Caller> {
    if (header === undefined) {
      // RFC 6750: a request that did not try to authenticate gets a challenge without an error.
      throw unauthorized(
        'The request has no Authorization header: send "Authorization: Bearer <token>".',
        'Bearer',
      );
    }
    const token = bearerToken(header);
    if (token === undefined) {
      throw unauthorized('The Authorization header is not of the form "Bearer <token>".');
    }
    try {
      return await this.tokens.verify(token);
    } catch (error) {
      // Anything else is not a verdict on the token: a key set that cannot be read is a 503.
      if (error instanceof TokenRefusedError) throw unauthorized(error.message);
      throw error;
    }
  }
}

function unauthorized(
  detail: string,
  challenge = 'Bearer error="invalid_token"',
): ProblemException {
  return new ProblemException(
    HttpStatus.UNAUTHORIZED,
    { type: 'unauthorized', title: 'Unauthorized', detail },
    { headers: { 'WWW-Authenticate': challenge } },
  );
}
