import { createHmac } from 'node:crypto';

export const DEV_JWT_SECRET = 'dev-only-secret-change-me';

/** A HS256 token as `npm run token` prints it. */
export function tokenFor(
  subject: string,
  { admin = false, secret = DEV_JWT_SECRET, expiresInSeconds = 3600 } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
    sub: subject,
    roles: admin ? ['admin'] : [],
    iat: now,
    exp: now + expiresInSeconds,
  })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

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
