import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { DependencyUnavailableError } from '../database/transient.js';
import type { ServiceEnvironment } from '../config/environment.js';
import type { Caller } from './caller.js';

// RFC 6750's b64token: anything else cannot be a bearer token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization: Bearer <token>` header; undefined for anything else. */
export const bearerToken = (header: string | undefined): string | undefined =>
  header === undefined ? undefined : BEARER.exec(header)?.[1];

const NO_SUBJECT = 'The token has no subject (sub), so it does not say who is calling.';

/** A token this system does not accept, with why in words a client can act on. */
export class TokenRefusedError extends Error {
  override name = 'TokenRefusedError';
}

/** Who may issue tokens, and with which key: this system itself, or an identity provider. */
interface Issuer {
  issuer: string;
  algorithms: string[];
  key: KeyObject | JWTVerifyGetKey;
  /** Where the caller's roles are: ['roles'], or ['realm_access', 'roles'], say. */
  rolesPath: string[];
}

/** The settings of ServiceEnvironment that say which tokens are accepted. */
export const TOKEN_SETTINGS = [
  'JWT_SECRET',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_MAX_LIFETIME_SECONDS',
  'JWT_CLOCK_TOLERANCE_SECONDS',
  'IDP_JWKS_URL',
  'IDP_PUBLIC_KEY',
  'IDP_ISSUER',
  'IDP_ALGORITHMS',
  'IDP_ROLES_CLAIM',
] as const satisfies (keyof ServiceEnvironment)[];

export type TokenSettings = Pick<ServiceEnvironment, (typeof TOKEN_SETTINGS)[number]>;

// Verifying a signature costs 80 µs of CPU alone, 330 µs when many run together (WebCrypto); a
// customer sends the same token with every request. A token's verdict is kept until it expires,
// and never longer than the identity provider's key set is cached (10 minutes): a key withdrawn
// from the set stops being honoured within twice that.
const VERDICTS_KEPT = 10_000;
const KEY_SET_MAX_AGE_MS = 10 * 60_000;

/**
 * Checks bearer tokens (signature, `exp` required, `nbf`, `iss`, `aud`, a maximum lifetime) and
 * signs this system's own. HS256 tokens are this system's, checked with JWT_SECRET; tokens signed
 * with an asymmetric algorithm are the identity provider's, checked against its key set (keys
 * found by `kid`, refreshed as they rotate) or its one PEM key. The header's algorithm chooses
 * the issuer, and each issuer accepts only its own algorithms and `iss`, so a token signed with
 * the provider's public key as an HMAC secret is refused.
 */
export class BearerTokens {
  private readonly verdicts = new Map<string, { caller: Caller; until: number }>();

  private constructor(
    private readonly issuers: Issuer[],
    private readonly secret: KeyObject,
    private readonly settings: TokenSettings,
    private readonly now: () => number,
  ) {}

  /** `now` gives the time in milliseconds since the epoch: tests decide it. */
  static from(settings: TokenSettings, now: () => number = Date.now): BearerTokens {
    const secret = createSecretKey(Buffer.from(settings.JWT_SECRET, 'utf8'));
    const issuers: Issuer[] = [
      { issuer: settings.JWT_ISSUER, algorithms: ['HS256'], key: secret, rolesPath: ['roles'] },
    ];
    const providerKey = settings.IDP_JWKS_URL
      ? keySetAt(new URL(settings.IDP_JWKS_URL))
      : settings.IDP_PUBLIC_KEY
        ? createPublicKey(settings.IDP_PUBLIC_KEY)
        : undefined;
    if (providerKey && settings.IDP_ISSUER) {
      issuers.push({
        issuer: settings.IDP_ISSUER,
        algorithms: settings.IDP_ALGORITHMS,
        key: providerKey,
        rolesPath: settings.IDP_ROLES_CLAIM.split('.'),
      });
    }
    return new BearerTokens(issuers, secret, settings, now);
  }

  /** A token of this system's own, for a service calling another. */
  sign(subject: string, roles: string[], ttlSeconds: number): Promise<string> {
    return new SignJWT({ roles })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(this.settings.JWT_ISSUER)
      .setAudience(this.settings.JWT_AUDIENCE)
      .setIssuedAt(new Date(this.now()))
      .setExpirationTime(Math.floor(this.now() / 1000) + ttlSeconds)
      .sign(this.secret);
  }

  /**
   * The caller a token names; throws TokenRefusedError saying why it is refused, or
   * DependencyUnavailableError when the identity provider's keys cannot be fetched.
   */
  async verify(token: string): Promise<Caller> {
    const now = this.now();
    const known = this.verdicts.get(token);
    if (known && known.until > now) return known.caller;
    if (known) this.verdicts.delete(token);

    const claims = await this.claims(token, now);
    const caller = this.callerOf(claims);
    if (this.verdicts.size >= VERDICTS_KEPT) {
      // The oldest verdict goes: a Map iterates in insertion order.
      this.verdicts.delete(this.verdicts.keys().next().value!);
    }
    this.verdicts.set(token, {
      caller,
      until: Math.min((claims.exp ?? 0) * 1000, now + KEY_SET_MAX_AGE_MS),
    });
    return caller;
  }

  private async claims(token: string, now: number): Promise<JWTPayload & { issuer: Issuer }> {
    let algorithm: string | undefined;
    try {
      algorithm = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw new TokenRefusedError(`The token is malformed (${(error as Error).message}).`);
    }
    const issuer = this.issuers.find((candidate) => candidate.algorithms.includes(algorithm!));
    if (!issuer) throw new TokenRefusedError(notAccepted(algorithm, this.issuers));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.key as KeyObject, {
        algorithms: issuer.algorithms,
        issuer: issuer.issuer,
        audience: this.settings.JWT_AUDIENCE,
        clockTolerance: this.settings.JWT_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw whyRefused(error, this.settings);
    }
    const nowSeconds = now / 1000;
    const issuedAt = Math.min(payload.iat ?? nowSeconds, nowSeconds);
    const lifetime = payload.exp! - issuedAt;
    const longest = this.settings.JWT_MAX_LIFETIME_SECONDS;
    if (lifetime > longest + this.settings.JWT_CLOCK_TOLERANCE_SECONDS) {
      throw new TokenRefusedError(
        `The token is valid for ${Math.round(lifetime)} s, longer than the ${longest} s accepted: ask for a shorter-lived one.`,
      );
    }
    return { ...payload, issuer };
  }

  private callerOf({ sub, issuer, ...claims }: JWTPayload & { issuer: Issuer }): Caller {
    if (typeof sub !== 'string' || sub === '') {
      throw new TokenRefusedError(NO_SUBJECT);
    }
    let roles: unknown = claims;
    for (const step of issuer.rolesPath) {
      roles = roles !== null && typeof roles === 'object' ? (roles as never)[step] : undefined;
    }
    roles ??= [];
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      throw new TokenRefusedError(
        `The token's "${issuer.rolesPath.join('.')}" claim is not a list of strings.`,
      );
    }
    return { id: sub, roles, isAdmin: roles.includes('admin') };
  }
}

/**
 * The identity provider's key set, fetched when a token names a `kid` it has not seen (at most
 * every 30 s) and every 10 minutes. A set that cannot be fetched is a dependency down, not a
 * verdict on the token: the client is told to retry.
 */
function keySetAt(url: URL): JWTVerifyGetKey {
  const keySet = createRemoteJWKSet(url, {
    timeoutDuration: 5000,
    cacheMaxAge: KEY_SET_MAX_AGE_MS,
  });
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw new TokenRefusedError(
          `The token's key (kid ${JSON.stringify(header.kid ?? null)}) is not in the identity provider's key set.`,
        );
      }
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        throw new TokenRefusedError(
          "The token names no key (kid) and the identity provider's key set has several that fit.",
        );
      }
      throw new DependencyUnavailableError(
        `The identity provider's key set at ${url.origin}${url.pathname} could not be read: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
}

function notAccepted(algorithm: string | undefined, issuers: Issuer[]): string {
  const accepted = issuers.flatMap((issuer) => issuer.algorithms);
  return accepted.length === 1
    ? `The token is not signed with ${accepted[0]}, the only algorithm accepted.`
    : `The token is signed with ${algorithm ?? 'no algorithm'}, not one of the algorithms accepted (${accepted.join(', ')}).`;
}

function whyRefused(error: unknown, settings: TokenSettings): Error {
  if (error instanceof errors.JWTExpired) {
    const expiry = new Date(Number(error.payload.exp) * 1000);
    return new TokenRefusedError(`The token expired at ${expiry.toISOString()}.`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new TokenRefusedError(claimProblem(error, settings));
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRefusedError(
      'The token has a bad signature: it was not signed with a key this system trusts, or was altered.',
    );
  }
  if (error instanceof TokenRefusedError || error instanceof DependencyUnavailableError) {
    return error;
  }
  if (error instanceof errors.JOSEError) {
    return new TokenRefusedError(`The token is malformed (${error.message}).`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function claimProblem(error: errors.JWTClaimValidationFailed, settings: TokenSettings): string {
  const { claim, reason } = error;
  if (reason === 'missing') {
    return claim === 'exp'
      ? 'The token has no expiry (exp): tokens that never expire are not accepted.'
      : claim === 'sub'
        ? NO_SUBJECT
        : `The token has no "${claim}" claim.`;
  }
  if (claim === 'nbf') {
    return `The token is not valid before ${new Date(Number(error.payload.nbf) * 1000).toISOString()}.`;
  }
  if (claim === 'aud') {
    return `The token is not meant for this system: its audience (aud) must include "${settings.JWT_AUDIENCE}".`;
  }
  if (claim === 'iss') {
    return 'The token comes from an issuer (iss) this system does not trust for its algorithm.';
  }
  return `The token's "${claim}" claim is invalid (${error.message}).`;
}
