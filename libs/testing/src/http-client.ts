import { DEV_JWT_SECRET, signToken } from '../../../scripts/sign-token.mjs';

export { DEV_JWT_SECRET };

/** A HS256 token as `npm run token` prints it (`claims` adds or overrides claims). */
export function tokenFor(
  subject: string,
  {
    admin = false,
    secret = DEV_JWT_SECRET,
    expiresInSeconds = 3600,
    roles = admin ? ['admin'] : [],
    claims = {},
  }: {
    admin?: boolean;
    secret?: string;
    expiresInSeconds?: number;
    roles?: string[];
    claims?: Record<string, unknown>;
  } = {},
): string {
  return signToken(subject, { secret, ttlSeconds: expiresInSeconds, claims: { roles, ...claims } });
}

/**
 * Rate limits no test reaches by accident (a test polls and places far more than a person
 * would); the tests of the limits set their own.
 */
export const UNLIMITED_RATES = {
  RATE_LIMIT_CALLER_WRITES: '1000000000',
  RATE_LIMIT_ANONYMOUS_REQUESTS: '1000000000',
};

// Tests read whatever JSON a route answers and assert on it: `any` keeps them readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client for tests: sends as a given caller, returns status, headers and body. */
export function httpClient(baseUrl: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return async function request<T = any>(
    method: string,
    path: string,
    options: {
      token?: string;
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the raw text is what the test gets.
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };
}
