import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tokenFor } from '@ordering/testing';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { DependencyUnavailableError } from '../database/transient.js';
import { environmentValidator, ServiceEnvironment } from '../config/environment.js';
import { BearerTokens, TokenRefusedError } from './bearer-tokens.js';

const SECRET = 'the-secret-of-the-token-tests';
const IDP = 'https://id.example.test/realms/shop';

const tokensFor = (environment: Record<string, string> = {}, now = Date.now) =>
  BearerTokens.from(
    environmentValidator(ServiceEnvironment)({ JWT_SECRET: SECRET, ...environment }),
    now,
  );

const ours = (claims: Record<string, unknown> = {}, options: { expiresInSeconds?: number } = {}) =>
  tokenFor('customer-1', { secret: SECRET, claims, ...options });

async function refusal(tokens: BearerTokens, token: string): Promise<string> {
  const error = await tokens.verify(token).then(
    () => new Error('the token was accepted'),
    (refused: unknown) => refused,
  );
  expect(error).toBeInstanceOf(TokenRefusedError);
  return (error as Error).message;
}

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** A token as an identity provider signs it: its issuer and our audience, valid for 5 minutes. */
function fromProvider(
  key: KeyPair['privateKey'],
  header: { alg: string; kid?: string },
  claims: Record<string, unknown> = {},
) {
  return new SignJWT({
    sub: 'employee-7',
    iss: IDP,
    aud: ['account', 'ordering'],
    realm_access: { roles: ['admin'] },
    ...claims,
  })
    .setProtectedHeader(header)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

describe('BearerTokens: the tokens of this system (HS256)', () => {
  const tokens = tokensFor();

  it('accepts a token for its issuer and audience, naming the caller and its roles', async () => {
    await expect(tokens.verify(ours({ roles: ['admin'] }))).resolves.toEqual({
      id: 'customer-1',
      roles: ['admin'],
      isAdmin: true,
    });
  });

  it('refuses a token without an expiry', async () => {
    expect(await refusal(tokens, ours({ exp: undefined }))).toMatch(/no expiry \(exp\)/);
  });

  it('refuses a token meant for another audience', async () => {
    expect(await refusal(tokens, ours({ aud: 'billing' }))).toMatch(
      /audience \(aud\) must include "ordering"/,
    );
  });

  it('refuses a token from another issuer', async () => {
    expect(await refusal(tokens, ours({ iss: 'somebody-else' }))).toMatch(/issuer \(iss\)/);
  });

  it('refuses a token valid for longer than JWT_MAX_LIFETIME_SECONDS, however it is dated', async () => {
    const short = tokensFor({ JWT_MAX_LIFETIME_SECONDS: '3600' });
    expect(await refusal(short, ours({}, { expiresInSeconds: 7200 }))).toMatch(
      /valid for 7200 s, longer than the 3600 s accepted/,
    );
    // Dated in the future, so that exp - iat looks short: what counts is from now.
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(short, ours({ iat: now + 7000, exp: now + 7200 }))).toMatch(/longer than/);
    await expect(short.verify(ours({}, { expiresInSeconds: 3600 }))).resolves.toBeTruthy();
  });

  it('forgives JWT_CLOCK_TOLERANCE_SECONDS of clock skew, and no more', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(tokens.verify(ours({ exp: now - 20 }))).resolves.toBeTruthy();
    expect(await refusal(tokens, ours({ exp: now - 40 }))).toMatch(/expired at/);
    expect(await refusal(tokens, ours({ nbf: now + 40 }))).toMatch(/not valid before/);
  });

  it('stops accepting a token it accepted before once it expires', async () => {
    let later = 0;
    const strict = tokensFor({ JWT_CLOCK_TOLERANCE_SECONDS: '0' }, () => Date.now() + later);
    const token = ours({}, { expiresInSeconds: 60 });
    await expect(strict.verify(token)).resolves.toBeTruthy();
    later = 61_000;
    expect(await refusal(strict, token)).toMatch(/expired at/);
  });

  it('refuses an algorithm it was not configured for, naming the one it accepts', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    expect(await refusal(tokens, await fromProvider(privateKey, { alg: 'RS256' }))).toMatch(
      /not signed with HS256, the only algorithm accepted/,
    );
  });

  it('signs service tokens it accepts, with their roles and a short life', async () => {
    const token = await tokens.sign('notification-service', ['order-reader'], 300);
    await expect(tokens.verify(token)).resolves.toEqual({
      id: 'notification-service',
      roles: ['order-reader'],
      isAdmin: false,
    });
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'ordering', aud: 'ordering' });
    expect(claims.exp - claims.iat).toBe(300);
  });
});

describe('BearerTokens: an identity provider with a key set (JWKS)', () => {
  let rsa: KeyPair;
  let ec: KeyPair;
  let server: Server;
  let published: JWK[] = [];
  let keySetUrl: string;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    published = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    keySetUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  });

  afterAll(() => new Promise((closed) => server.close(closed)));

  const provider = () =>
    tokensFor({
      IDP_JWKS_URL: keySetUrl,
      IDP_ISSUER: IDP,
      IDP_ROLES_CLAIM: 'realm_access.roles',
    });

  it.each(['RS256', 'ES256'])(
    'accepts a %s token whose kid is in the set, reading roles where IDP_ROLES_CLAIM says',
    async (alg) => {
      const key = alg === 'RS256' ? rsa : ec;
      const token = await fromProvider(key.privateKey, {
        alg,
        kid: alg === 'RS256' ? 'rsa-1' : 'ec-1',
      });
      await expect(provider().verify(token)).resolves.toEqual({
        id: 'employee-7',
        roles: ['admin'],
        isAdmin: true,
      });
    },
  );

  it('refuses a token whose kid is not in the set', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await fromProvider(stranger.privateKey, { alg: 'RS256', kid: 'rsa-9' });
    expect(await refusal(provider(), token)).toMatch(
      /kid "rsa-9"\) is not in the identity provider's key set/,
    );
  });

  it('refuses a token signed by another key under a published kid', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await fromProvider(stranger.privateKey, { alg: 'RS256', kid: 'rsa-1' });
    expect(await refusal(provider(), token)).toMatch(/bad signature/);
  });

  it("refuses the provider's algorithm with this system's issuer, and HS256 with the provider's", async () => {
    const tokens = provider();
    const posing = await fromProvider(
      rsa.privateKey,
      { alg: 'RS256', kid: 'rsa-1' },
      { iss: 'ordering' },
    );
    expect(await refusal(tokens, posing)).toMatch(/issuer \(iss\)/);
    expect(await refusal(tokens, ours({ iss: IDP }))).toMatch(/issuer \(iss\)/);
  });

  it('still accepts its own HS256 tokens beside the provider’s', async () => {
    await expect(provider().verify(ours())).resolves.toMatchObject({ id: 'customer-1' });
  });

  it('says the key set is unavailable, not that the token is bad, when it cannot be fetched', async () => {
    const unreachable = tokensFor({ IDP_JWKS_URL: 'http://127.0.0.1:1/certs', IDP_ISSUER: IDP });
    const token = await fromProvider(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' });
    await expect(unreachable.verify(token)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});

describe('BearerTokens: an identity provider with one PEM key', () => {
  it('accepts tokens signed with its key and refuses one HMAC-signed with the public key itself', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const pem = await exportSPKI(publicKey);
    // As it would be written on one line in an environment file.
    const tokens = tokensFor({
      IDP_PUBLIC_KEY: pem.trim().replaceAll('\n', '\\n'),
      IDP_ISSUER: IDP,
    });
    await expect(
      tokens.verify(await fromProvider(privateKey, { alg: 'ES256' })),
    ).resolves.toMatchObject({
      id: 'employee-7',
      roles: [],
    });
    // Algorithm confusion: the public key is public, so anyone can HMAC with it.
    const confused = tokenFor('employee-7', { secret: pem, claims: { iss: IDP } });
    expect(await refusal(tokens, confused)).toMatch(/issuer \(iss\)|bad signature/);
    const confusedAsOurs = tokenFor('employee-7', { secret: pem });
    expect(await refusal(tokens, confusedAsOurs)).toMatch(/bad signature/);
  });
});
