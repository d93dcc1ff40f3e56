import rateLimit from '@fastify/rate-limit';
import { HttpStatus } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RouteConfig, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { bearerToken, BearerTokens } from '../auth/bearer-tokens.js';
import type { ServiceEnvironment } from '../config/environment.js';
import { ProblemException } from './problem.exception.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CALLER = 'caller:';
/** Whom each request was counted against, to say so when it is refused. */
const counted = new WeakMap<object, string>();

/**
 * Exempts a route from every rate limit (health probes, metrics scrapes): a probe answered 429
 * would take a healthy instance out. Put it on each handler (Fastify's route config).
 */
export const NotRateLimited = () => RouteConfig({ rateLimit: false });

/**
 * Limits what one client sends (API4 of the OWASP API Top 10): each caller's writes, counted by
 * its token's `sub` (RATE_LIMIT_CALLER_WRITES), and every request without a valid token, counted
 * by its address (RATE_LIMIT_ANONYMOUS_REQUESTS), per RATE_LIMIT_WINDOW_SECONDS. Behind proxies
 * the address is the one TRUST_PROXY lets Fastify read from X-Forwarded-For. It runs when a
 * request arrives, before authentication, so a flood of bad tokens is limited too; a token found
 * valid here is found again by the authentication guard in BearerTokens' verdicts, at no cost.
 * Over a limit: 429 problem details with Retry-After. Counters are kept per instance.
 *
 * @fastify/rate-limit rather than @nestjs/throttler: the latter is CommonJS requiring Nest 12,
 * which is ESM only, and Jest on Node 20 cannot load that (../shared/TOOLCHAIN.md).
 */
export async function limitRates(app: NestFastifyApplication): Promise<void> {
  const config = app.get<ConfigService<ServiceEnvironment, true>>(ConfigService);
  const tokens = app.get(BearerTokens);
  const callerWrites = config.get('RATE_LIMIT_CALLER_WRITES', { infer: true });
  const anonymous = config.get('RATE_LIMIT_ANONYMOUS_REQUESTS', { infer: true });
  const windowSeconds = config.get('RATE_LIMIT_WINDOW_SECONDS', { infer: true });

  await app.register(rateLimit, {
    global: true,
    timeWindow: windowSeconds * 1000,
    keyGenerator: async (request) => {
      const token = bearerToken(request.headers.authorization);
      // A refusal is the authentication guard's to explain; here it only means "anonymous".
      const caller = token && (await tokens.verify(token).catch(() => undefined));
      const key = caller ? `${CALLER}${caller.id}` : request.ip;
      counted.set(request, key);
      return key;
    },
    // A caller's reads are not limited; only its writes.
    allowList: (request, key) => key.startsWith(CALLER) && !WRITES.has(request.method),
    max: (_request, key) => Promise.resolve(key.startsWith(CALLER) ? callerWrites : anonymous),
    // Retry-After on a 429, and no counters on every answer.
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': true,
    },
    errorResponseBuilder: (request, { max, ttl }) => {
      const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
      const key = counted.get(request) ?? '';
      const what = key.startsWith(CALLER)
        ? `writes from ${key.slice(CALLER.length)}`
        : 'requests without a valid token from this address';
      return new ProblemException(
        HttpStatus.TOO_MANY_REQUESTS,
        {
          type: 'too-many-requests',
          title: 'Too many requests',
          detail: `More than ${max} ${what} in ${windowSeconds} s: retry after ${retryAfter} s.`,
        },
        { headers: { 'Retry-After': String(retryAfter) } },
      );
    },
  });
}
