import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JsonWebTokenError, JwtService, NotBeforeError, TokenExpiredError } from '@nestjs/jwt';
import type { HttpRequest } from '../http/http-exchange.js';
import { ProblemException } from '../http/problem.exception.js';
import { type Caller, rememberCaller } from './caller.js';
import { IS_PUBLIC } from './public.decorator.js';

// RFC 6750's b64token: anything else cannot be a bearer token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Lets an HTTP request through only with `Authorization: Bearer <JWT>` signed (HS256) with
 * `JWT_SECRET` and naming its caller in `sub`, unless the route is `@Public()`.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly jwt: JwtService,
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
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) {
      throw unauthorized('The Authorization header is not of the form "Bearer <token>".');
    }
    let claims: Record<string, unknown>;
    try {
      claims = await this.jwt.verifyAsync<Record<string, unknown>>(token, {
        algorithms: ['HS256'],
      });
    } catch (error) {
      throw unauthorized(whyRefused(error));
    }
    const { sub, roles = [] } = claims;
    if (typeof sub !== 'string' || sub === '') {
      throw unauthorized('The token has no subject (sub), so it does not say who is calling.');
    }
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      throw unauthorized('The token\'s "roles" claim is not a list of strings.');
    }
    return { id: sub, roles, isAdmin: roles.includes('admin') };
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

function whyRefused(error: unknown): string {
  if (error instanceof TokenExpiredError) {
    return `The token expired at ${error.expiredAt.toISOString()}.`;
  }
  if (error instanceof NotBeforeError) {
    return `The token is not valid before ${error.date.toISOString()}.`;
  }
  if (error instanceof JsonWebTokenError) {
    if (error.message === 'invalid signature') {
      return "The token has a bad signature: it was not signed with this system's secret, or was altered.";
    }
    if (error.message === 'invalid algorithm' || error.message === 'jwt signature is required') {
      return 'The token is not signed with HS256, the only algorithm accepted.';
    }
    return `The token is malformed (${error.message}).`;
  }
  // Not a verdict on the token but a failure to check it: a 500, logged.
  throw error;
}
