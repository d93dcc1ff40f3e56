import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  Get,
  type LoggerService,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { tokenFor } from '@ordering/testing';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { Caller } from '../auth/caller.js';
import { Public } from '../auth/public.decorator.js';
import { startHttpSurface } from './http-surface.test-support.js';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './json-body.js';
import { PROBLEM_TYPE_BASE, ProblemException } from './problem.exception.js';
import { UuidParam } from './validation.js';

const SECRET = 'a-test-secret-nobody-else-uses';
const INTERNALS = 'connection to db-internal.example:5432 refused for user ordering_app';

class Line {
  @ApiProperty() @IsString() @IsNotEmpty() sku!: string;
  @ApiProperty() @IsInt() @Min(1) quantity!: number;
}

class PlaceOrder {
  @ApiProperty({ type: [Line] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => Line)
  items!: Line[];

  @ApiProperty({ required: false }) @IsOptional() @IsString() note?: string;
}

@Controller('test')
class TestController {
  @Post('orders')
  place(@Body() order: PlaceOrder, @Caller() caller: Caller) {
    return { caller, lines: order.items.length, linesAreInstances: order.items[0] instanceof Line };
  }

  @Get('me')
  me(@Caller() caller: Caller) {
    return caller;
  }

  @Public()
  @Get('open')
  open() {
    return { open: true };
  }

  @Public()
  @Get('orders/:orderId')
  order(@UuidParam('orderId') orderId: string) {
    return { orderId };
  }

  @Public()
  @Get('unknown-skus')
  unknownSkus() {
    throw new ProblemException(422, {
      type: 'unknown-skus',
      title: 'Unknown SKUs',
      detail: 'The catalogue has no NOPE-1.',
      skus: ['NOPE-1'],
    });
  }

  @Public()
  @Get('unavailable')
  unavailable() {
    throw new ServiceUnavailableException({
      status: 'error',
      error: { database: { status: 'down' } },
    });
  }

  @Public()
  @Get('boom')
  boom() {
    throw new Error(INTERNALS);
  }
}

class CapturingLogger implements LoggerService {
  readonly errors: unknown[][] = [];
  log() {}
  warn() {}
  error(...parameters: unknown[]) {
    this.errors.push(parameters);
  }
}

describe('the HTTP surface every service shares (configureHttpApp + AuthModule)', () => {
  const logger = new CapturingLogger();
  let app: NestFastifyApplication;
  let base: string;

  const token = (claims: Record<string, unknown>, secret = SECRET) =>
    tokenFor(claims.sub as string, { secret, claims });
  const alice = token({ sub: 'customer-alice' });

  async function call(
    method: string,
    path: string,
    {
      bearer,
      body,
      headers = {},
    }: { bearer?: string; body?: string; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${base}${path}`, {
      method,
      body,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
        ...headers,
      },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests probe whatever came back
    const answer: any = await response.json();
    return { status: response.status, headers: response.headers, body: answer };
  }

  const place = (order: unknown, bearer = alice) =>
    call('POST', '/test/orders', { bearer, body: JSON.stringify(order) });

  beforeAll(async () => {
    ({ app, base } = await startHttpSurface(TestController, { JWT_SECRET: SECRET }, logger));
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('request bodies', () => {
    it('accepts a valid body, turned into the DTO classes', async () => {
      const response = await place({ items: [{ sku: 'COFFEE', quantity: 2 }] });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ lines: 1, linesAreInstances: true });
    });

    it('reads a gzip-compressed body, and any application/*+json one', async () => {
      const json = JSON.stringify({ items: [{ sku: 'COFFEE', quantity: 2 }] });
      const compressed = await fetch(`${base}/test/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Bearer ${alice}`,
        },
        body: gzipSync(json),
      });
      expect(compressed.status).toBe(201);
      const vendor = await call('POST', '/test/orders', {
        bearer: alice,
        body: json,
        headers: { 'content-type': 'application/vnd.ordering+json; charset=utf-8' },
      });
      expect(vendor.status).toBe(201);
    });

    it('refuses a compressed body that inflates past the limit with 413', async () => {
      const bomb = gzipSync(JSON.stringify({ items: [], padding: 'x'.repeat(4 * MAX_BODY_BYTES) }));
      expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
      const response = await fetch(`${base}/test/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: `Bearer ${alice}`,
        },
        body: bomb,
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { type: string }).type).toBe(
        `${PROBLEM_TYPE_BASE}payload-too-large`,
      );
    });

    it('refuses a body that is not JSON, or in an unknown encoding, with 415', async () => {
      const text = await call('POST', '/test/orders', {
        bearer: alice,
        body: 'items=COFFEE',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(415);
      expect(text.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const encoded = await call('POST', '/test/orders', {
        bearer: alice,
        body: '{}',
        headers: { 'content-encoding': 'zstd-of-the-future' },
      });
      expect(encoded.status).toBe(415);
      expect(encoded.body.detail).toContain('zstd-of-the-future');
    });

    it('answers malformed JSON with 400 malformed-json saying where parsing failed', async () => {
      const response = await call('POST', '/test/orders', {
        bearer: alice,
        body: '{\n  "items": [\n    { "sku": "COFFEE", }\n  ]\n}',
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}malformed-json`,
        title: 'Malformed JSON',
        status: 400,
        instance: '/test/orders',
      });
      expect(response.body.detail).toContain('at position 38 (line 3, column 24)');
    });

    it('names an unknown field, at the top and nested, as not allowed', async () => {
      const response = await place({
        items: [{ sku: 'COFFEE', quantity: 1, colour: 'red' }],
        price: 1,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
      expect(response.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'price', message: 'is not allowed' },
          { field: 'items[0].colour', message: 'is not allowed' },
        ]),
      );
      expect(response.body.errors).toHaveLength(2);
    });

    it('names a nested invalid field by its path, array index in brackets', async () => {
      const response = await place({
        items: [
          { sku: 'COFFEE', quantity: 1 },
          { sku: 'MUG', quantity: 0 },
        ],
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}validation-failed`,
        title: 'Validation failed',
        status: 400,
        detail: 'items[1].quantity must not be less than 1',
        instance: '/test/orders',
        errors: [{ field: 'items[1].quantity', message: 'must not be less than 1' }],
      });
    });

    it('reports every problem at once', async () => {
      const response = await place({ items: [{ sku: '', quantity: 1.5 }], note: 7 });
      expect(response.status).toBe(400);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toEqual([
        'items[0].sku',
        'items[0].quantity',
        'note',
      ]);
    });

    it(`refuses a body over ${MAX_BODY_BYTES / 1024} KiB with 413 naming the limit`, async () => {
      const response = await place({ items: [], padding: 'x'.repeat(MAX_BODY_BYTES) });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}payload-too-large`,
        status: 413,
        maxBytes: MAX_BODY_BYTES,
      });
      expect(response.body.detail).toContain('64 KiB');
    });
    it('refuses a streamed body, sent without Content-Length, once it goes over the limit', async () => {
      const json = JSON.stringify({ items: [], padding: 'x'.repeat(MAX_BODY_BYTES) });
      const response = await fetch(`${base}/test/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
        body: new Blob([json]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { detail: string }).detail).toBe(
        'The request body is over the limit of 64 KiB (65536 bytes).',
      );
    });

    it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels with 400, however small`, async () => {
      const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      const response = await call('POST', '/test/orders', {
        bearer: alice,
        body: `{"items":[{"sku":"A","quantity":1}],"note":${deep}}`,
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}json-too-deep`,
        maxDepth: MAX_JSON_DEPTH,
      });
      // Brackets inside strings are text, not nesting.
      const text = await place({ items: [{ sku: 'A', quantity: 1 }], note: '['.repeat(100) });
      expect(text.status).toBe(201);
    });

    it('answers headers over 16 KiB in all with 431 problem details', async () => {
      const response = await fetch(`${base}/test/open`, {
        headers: { 'x-padding': 'x'.repeat(17 * 1024) },
      });
      expect(response.status).toBe(431);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}headers-too-large`,
        status: 431,
        detail: expect.stringContaining('16 KiB'),
      });
    });
  });

  describe('authentication', () => {
    it('hands the caller from a valid token to the handler', async () => {
      const customer = await call('GET', '/test/me', { bearer: alice });
      expect(customer.status).toBe(200);
      expect(customer.body).toEqual({ id: 'customer-alice', roles: [], isAdmin: false });

      const admin = await call('GET', '/test/me', {
        bearer: token({ sub: 'ops-1', roles: ['admin'] }),
      });
      expect(admin.body).toEqual({ id: 'ops-1', roles: ['admin'], isAdmin: true });
    });

    it('answers a request without a token with 401 and a Bearer challenge', async () => {
      const response = await call('GET', '/test/me');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}unauthorized`,
        title: 'Unauthorized',
        status: 401,
        instance: '/test/me',
      });
      expect(response.body.detail).toMatch(/no Authorization header/);
    });

    it.each([
      [
        'a header of another scheme',
        { authorization: 'Basic YWxpY2U6c2VjcmV0' },
        /not of the form/,
      ],
      ['a token that is not a JWT', { authorization: 'Bearer not-a-jwt' }, /malformed/],
      [
        'an expired token',
        {
          authorization: `Bearer ${token({ sub: 'c-1', exp: Math.floor(Date.now() / 1000) - 60 })}`,
        },
        /expired at/,
      ],
      [
        'a token that never expires',
        { authorization: `Bearer ${token({ sub: 'c-1', exp: undefined })}` },
        /no expiry/,
      ],
      [
        'a token for another audience',
        { authorization: `Bearer ${token({ sub: 'c-1', aud: 'billing' })}` },
        /audience/,
      ],
      [
        'a token signed with another secret',
        { authorization: `Bearer ${token({ sub: 'c-1' }, 'somebody-elses-secret-key')}` },
        /bad signature/,
      ],
      [
        'an unsigned token',
        { authorization: `Bearer ${unsigned({ sub: 'c-1' })}` },
        /only algorithm accepted/,
      ],
      [
        'a token without sub',
        { authorization: `Bearer ${token({ roles: ['admin'] })}` },
        /no subject/,
      ],
      [
        'a token whose roles are not strings',
        { authorization: `Bearer ${token({ sub: 'c-1', roles: 'admin' })}` },
        /roles/,
      ],
    ])('refuses %s with 401 saying why', async (_case, headers, why) => {
      const response = await call('GET', '/test/me', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(response.body.type).toBe(`${PROBLEM_TYPE_BASE}unauthorized`);
      expect(response.body.detail).toMatch(why);
    });

    it('checks the token before the body', async () => {
      const response = await call('POST', '/test/orders', { body: JSON.stringify({ items: [] }) });
      expect(response.status).toBe(401);
    });

    it('lets anyone call a @Public() route', async () => {
      const response = await call('GET', '/test/open');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ open: true });
    });
  });

  describe('errors thrown by handlers', () => {
    it('sends a ProblemException as thrown, extensions included', async () => {
      const response = await call('GET', '/test/unknown-skus');
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual({
        type: `${PROBLEM_TYPE_BASE}unknown-skus`,
        title: 'Unknown SKUs',
        status: 422,
        detail: 'The catalogue has no NOPE-1.',
        instance: '/test/unknown-skus',
        skus: ['NOPE-1'],
      });
    });

    it('keeps what another HttpException carried as extensions', async () => {
      const response = await call('GET', '/test/unavailable');
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        type: `${PROBLEM_TYPE_BASE}service-unavailable`,
        title: 'Service Unavailable',
        status: 503,
        instance: '/test/unavailable',
        error: { database: { status: 'down' } },
      });
    });

    it('answers an unexpected error with 500 and nothing of it, and logs it with its stack', async () => {
      const response = await call('GET', '/test/boom?token=secret');
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual({
        type: `${PROBLEM_TYPE_BASE}internal-error`,
        title: 'Internal server error',
        status: 500,
        detail: expect.any(String),
        instance: '/test/boom',
      });
      expect(JSON.stringify(response.body)).not.toContain('db-internal');

      const [message, stack] = logger.errors.at(-1) as string[];
      expect(message).toBe(`GET /test/boom failed: ${INTERNALS}`);
      expect(stack).toMatch(/\n\s+at .*boom/);
    });

    it('names a route parameter that is not a UUID', async () => {
      const response = await call('GET', '/test/orders/not-a-uuid');
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}validation-failed`,
        errors: [{ field: 'orderId', message: 'must be a UUID' }],
      });
      const id = '0b7e1c1e-4c4f-4d47-9d51-2f6d2a1c0a11';
      expect((await call('GET', `/test/orders/${id}`)).body).toEqual({ orderId: id });
    });

    it('answers an unknown route with a 404 problem, token or not', async () => {
      const response = await call('GET', '/nope');
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}not-found`,
        title: 'Not Found',
        status: 404,
        instance: '/nope',
      });
    });
  });

  describe('OpenAPI', () => {
    it('serves the document without a token', async () => {
      const response = await call('GET', '/docs-json');
      expect(response.status).toBe(200);
      expect(response.body.info).toMatchObject({ title: 'test service', version: '1' });
      expect(response.body.components.schemas.PlaceOrder).toBeDefined();
    });

    it('documents bearer auth as required on every route but the public ones', async () => {
      const document = (await call('GET', '/docs-json')).body;
      expect(document.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
      });
      expect(document.security).toEqual([{ bearer: [] }]);
      expect(document.paths['/test/open'].get.security).toEqual([{}]);
      expect(document.paths['/test/me'].get.security).toBeUndefined();
    });

    it('states the limits every operation has, with the problem each is refused with', async () => {
      const { description } = (await call('GET', '/docs-json')).body.info;
      for (const limit of ['64 KiB', `${MAX_JSON_DEPTH} levels`, '16 KiB in all', 'Retry-After']) {
        expect(description).toContain(limit);
      }
    });

    it('sends security headers on every answer, errors included', async () => {
      const answers = [
        await fetch(`${base}/docs`),
        await fetch(`${base}/test/open`),
        await fetch(`${base}/no-such-route`),
        await fetch(`${base}/test/me`),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404, 401]);
      for (const answer of answers) {
        expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
        expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(answer.headers.get('strict-transport-security')).toContain('max-age=');
        expect(answer.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(answer.headers.get('content-security-policy')).not.toContain('upgrade-insecure');
        expect(answer.headers.get('x-powered-by')).toBeNull();
      }
    });

    it('serves Swagger UI as the content security policy lets it run: no inline scripts', async () => {
      // The policy allows scripts of the same origin only: Swagger UI's must all be files.
      const page = await (await fetch(`${base}/docs`)).text();
      expect(page).toMatch(/<script src=/);
      expect(page).not.toMatch(/<script>(?!\s*<\/script>)/);
    });

    it('serves Swagger UI without a token', async () => {
      const response = await fetch(`${base}/docs`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    });
  });
});

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
