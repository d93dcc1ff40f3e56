// Signs a bearer token the way the services check it: HS256 with the JWT_SECRET they share, for
// their issuer and audience. `npm run token` prints one; the tests and benchmarks sign theirs
// with it too.
import { createHmac } from 'node:crypto';

export const DEV_JWT_SECRET = 'dev-only-secret-change-me';
/** JWT_ISSUER's and JWT_AUDIENCE's defaults. */
export const DEFAULT_ISSUER = 'ordering';
export const DEFAULT_AUDIENCE = 'ordering';

const base64url = (value) => Buffer.from(value).toString('base64url');

/**
 * A token for `subject` (the "sub"), with the "admin" role if asked, valid for `ttlSeconds`.
 * `claims` adds or overrides claims (tests of what the services refuse).
 */
export function signToken(
  subject,
  {
    admin = false,
    ttlSeconds,
    secret = DEV_JWT_SECRET,
    issuer = DEFAULT_ISSUER,
    audience = DEFAULT_AUDIENCE,
    claims = {},
  },
) {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: subject,
    ...(admin ? { roles: ['admin'] } : {}),
    iss: issuer,
    aud: audience,
    iat: now,
    exp: now + ttlSeconds,
    ...claims,
  };
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
