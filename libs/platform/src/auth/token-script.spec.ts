import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { environmentValidator, ServiceEnvironment } from '../config/environment.js';
import { BearerTokens } from './bearer-tokens.js';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/token.mjs', import.meta.url));
const SECRET = 'the-secret-of-this-test-run';

async function token(
  args: string[],
  env: Record<string, string> = { JWT_SECRET: SECRET },
  cwd = process.cwd(),
) {
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], {
    env: { PATH: process.env.PATH, ...env },
    cwd,
  });
  return stdout.trim();
}

/** What a service with this environment makes of a token: its caller, and its claims. */
async function acceptedBy(token: string, environment: Record<string, string> = {}) {
  const settings = environmentValidator(ServiceEnvironment)(environment);
  const caller = await BearerTokens.from(settings).verify(token);
  return { caller, claims: decodeJwt(token) as Record<string, number> & { roles?: string[] } };
}

describe('scripts/token.mjs', () => {
  it('prints an HS256 token for the customer, with the admin role when asked, valid for a day', async () => {
    const { caller, claims } = await acceptedBy(await token(['c-1', '--admin']), {
      JWT_SECRET: SECRET,
    });
    expect(caller).toEqual({ id: 'c-1', roles: ['admin'], isAdmin: true });
    expect(claims.exp - claims.iat).toBe(24 * 60 * 60);
    expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(60);
  });

  it('leaves roles out unless --admin, honours --ttl, and signs with the development secret by default', async () => {
    const { caller, claims } = await acceptedBy(await token(['c-2', '--ttl', '60'], {}));
    expect(caller).toEqual({ id: 'c-2', roles: [], isAdmin: false });
    expect(claims.roles).toBeUndefined();
    expect(claims.exp - claims.iat).toBe(60);
  });

  it('signs with the JWT_SECRET of a .env file in the working directory, as the services read it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'token-'));
    await writeFile(join(directory, '.env'), 'JWT_SECRET=the-secret-in-dot-env\n');
    const fromFile = await token(['c-3'], {}, directory);
    await expect(
      acceptedBy(fromFile, { JWT_SECRET: 'the-secret-in-dot-env' }),
    ).resolves.toMatchObject({ caller: { id: 'c-3' } });
    // What the environment sets wins over the file, as it does for the services.
    const fromEnvironment = await token(['c-3'], { JWT_SECRET: SECRET }, directory);
    await expect(acceptedBy(fromEnvironment, { JWT_SECRET: SECRET })).resolves.toMatchObject({
      caller: { id: 'c-3' },
    });
    await rm(directory, { recursive: true });
  });

  it('signs for the issuer and audience the services are configured with', async () => {
    const settings = { JWT_SECRET: SECRET, JWT_ISSUER: 'shop-7', JWT_AUDIENCE: 'shop-7-api' };
    const { claims } = await acceptedBy(await token(['c-4'], settings), settings);
    expect(claims).toMatchObject({ iss: 'shop-7', aud: 'shop-7-api' });
    await expect(acceptedBy(await token(['c-4']), settings)).rejects.toThrow(/audience|issuer/);
  });

  it.each([[[]], [['c-1', '--ttl', 'soon']], [['c-1', '--root']], [['c-1', 'c-2']]])(
    'prints its usage and exits 2 when called with %j',
    async (args) => {
      const failure = (await token(args).catch((error: unknown) => error)) as {
        code: number;
        stdout: string;
        stderr: string;
      };
      expect(failure.code).toBe(2);
      expect(failure.stdout).toBe('');
      expect(failure.stderr).toContain(
        'Usage: npm run token -- <customerId> [--admin] [--ttl <seconds>]',
      );
    },
  );
});
