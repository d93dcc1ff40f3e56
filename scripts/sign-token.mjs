// Signs a bearer token the way the services check it: HS256 with the JWT_SECRET they share.
// `npm run token` prints one; the benchmarks sign theirs with it too.
import { createHmac } from 'node:crypto';

export const DEV_JWT_SECRET = 'dev-only-secret-change-me';

const base64url = (value) => Buffer.from(value).toString('base64url');

/** A token for `subject` (the "sub"), with the "admin" role if asked, valid for `ttlSeconds`. */
export function signToken(subject, { admin = false, ttlSeconds, secret = DEV_JWT_SECRET }) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: subject,
    ...(admin ? { roles: ['admin'] } : {}),
    iat: now,
    exp: now + ttlSeconds,
  };
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
