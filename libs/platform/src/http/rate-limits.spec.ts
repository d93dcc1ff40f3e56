import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Post } from '@nestjs/common';
import { tokenFor } from '@ordering/testing';
import { startHttpSurface } from './http-surface.test-support.js';
import { PROBLEM_TYPE_BASE } from './problem.exception.js';
import { Public } from '../auth/public.decorator.js';
import { NotRateLimited } from './rate-limits.js';

const SECRET = 'the-secret-of-the-rate-limit-tests';

@Controller()
class TestController {
  @Post('orders')
  place() {
    return { placed: true };
  }

  @Get('orders')
  list() {
    return [];
  }

  @Public()
  @Get('catalogue')
  catalogue() {
    return [];
  }

  @Public()
  @NotRateLimited()
  @Get('probe')
  probe() {
    return { ok: true };
  }
}

/** The HTTP edge every service has, with these settings, on a port of its own. */
async function startApp(environment: Record<string, string>) {
  const { app, base } = await startHttpSurface(TestController, {
    JWT_SECRET: SECRET,
    ...environment,
  });
  const call = async (
    method: string,
    path: string,
    { token, headers = {} }: { token?: string; headers?: Record<string, string> } = {},
  ) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };
  return { app, call };
}

const times = async <T>(count: number, send: () => Promise<T>): Promise<T[]> => {
  const answers: T[] = [];
  for (let i = 0; i < count; i++) answers.push(await send());
  return answers;
};
const statuses = (answers: { status: number }[]) => answers.map((answer) => answer.status);

describe('rate limits (RATE_LIMIT_*), on the HTTP edge every service shares', () => {
  let edge: Awaited<ReturnType<typeof startApp>>;
  const alice = tokenFor('customer-alice', { secret: SECRET });
  const bob = tokenFor('customer-bob', { secret: SECRET });

  beforeAll(async () => {
    edge = await startApp({
      RATE_LIMIT_CALLER_WRITES: '3',
      RATE_LIMIT_ANONYMOUS_REQUESTS: '3',
      RATE_LIMIT_WINDOW_SECONDS: '60',
    });
  });

  afterAll(async () => {
    await edge?.app.close();
  });

  it("answers a caller's write over its limit with 429 problem details and Retry-After", async () => {
    const answers = await times(4, () => edge.call('POST', '/orders', { token: alice }));
    expect(statuses(answers)).toEqual([201, 201, 201, 429]);
    const refused = answers[3]!;
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      type: `${PROBLEM_TYPE_BASE}too-many-requests`,
      title: 'Too many requests',
      status: 429,
      detail: expect.stringMatching(/More than 3 writes from customer-alice in 60 s/),
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('says the request id on a 429 too, so a refused caller can be found in the logs', async () => {
    const carol = tokenFor('customer-carol', { secret: SECRET });
    const answers = await times(4, () =>
      edge.call('POST', '/orders', { token: carol, headers: { 'x-request-id': 'r-9' } }),
    );
    expect(statuses(answers)).toEqual([201, 201, 201, 429]);
    expect(answers[3]!.headers.get('x-request-id')).toBe('r-9');
  });

  it("counts each caller's writes alone, and never its reads", async () => {
    expect(statuses(await times(3, () => edge.call('POST', '/orders', { token: bob })))).toEqual([
      201, 201, 201,
    ]);
    // Alice is over her limit for writes, not for reads.
    expect(statuses(await times(5, () => edge.call('GET', '/orders', { token: alice })))).toEqual([
      200, 200, 200, 200, 200,
    ]);
  });

  it('counts requests without a valid token by address, bad tokens included, and exempts probes', async () => {
    const answers = [
      await edge.call('GET', '/catalogue'),
      await edge.call('GET', '/orders', { token: 'not-a-token' }),
      await edge.call('GET', '/orders', { token: tokenFor('mallory', { secret: 'x'.repeat(20) }) }),
      await edge.call('GET', '/catalogue'),
      await edge.call('GET', '/orders', { token: 'not-a-token' }),
    ];
    expect(statuses(answers)).toEqual([200, 401, 401, 429, 429]);
    expect(answers[3]!.body.detail).toMatch(/requests without a valid token from this address/);
    // The same address with a valid token is a caller, counted as itself.
    expect((await edge.call('GET', '/catalogue', { token: bob })).status).toBe(200);
    expect(statuses(await times(5, () => edge.call('GET', '/probe')))).toEqual([
      200, 200, 200, 200, 200,
    ]);
  });
});

describe('TRUST_PROXY: whose X-Forwarded-For names the client', () => {
  const fromAddresses = (call: Awaited<ReturnType<typeof startApp>>['call']) =>
    Promise.all(
      ['203.0.113.1', '203.0.113.2', '203.0.113.3'].map((address) =>
        call('GET', '/catalogue', { headers: { 'x-forwarded-for': address } }),
      ),
    );

  it('ignores the header by default, so a client cannot spoof its way past its limit', async () => {
    const edge = await startApp({ RATE_LIMIT_ANONYMOUS_REQUESTS: '2' });
    expect(statuses(await fromAddresses(edge.call)).sort()).toEqual([200, 200, 429]);
    await edge.app.close();
  });

  it('counts the forwarded address when the proxy is trusted', async () => {
    const edge = await startApp({ RATE_LIMIT_ANONYMOUS_REQUESTS: '2', TRUST_PROXY: 'loopback' });
    expect(statuses(await fromAddresses(edge.call))).toEqual([200, 200, 200]);
    await edge.app.close();
  });
});

describe('CORS_ORIGINS: which browser pages may call', () => {
  const preflight = (call: Awaited<ReturnType<typeof startApp>>['call'], origin: string) =>
    call('OPTIONS', '/orders', {
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  it('allows no other origin when unset', async () => {
    const edge = await startApp({});
    const answer = await preflight(edge.call, 'https://shop.example.com');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    await edge.app.close();
  });

  it('allows exactly the origins listed', async () => {
    const edge = await startApp({
      CORS_ORIGINS: 'https://shop.example.com, http://localhost:5173',
    });
    const allowed = await preflight(edge.call, 'https://shop.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    const other = await preflight(edge.call, 'https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await edge.app.close();
  });
});
