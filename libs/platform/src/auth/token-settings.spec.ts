import { describe, expect, it } from '@jest/globals';
import {
  ConfigurationError,
  DEV_JWT_SECRET,
  environmentValidator,
  ServiceEnvironment,
} from '../config/environment.js';

const validate = environmentValidator(ServiceEnvironment);
const SECRET = 'the-secret-of-the-settings-tests';

describe('JWT_SECRET', () => {
  it('falls back to the development secret when unset or empty', () => {
    expect(validate({}).JWT_SECRET).toBe(DEV_JWT_SECRET);
    expect(validate({ JWT_SECRET: '' }).JWT_SECRET).toBe(DEV_JWT_SECRET);
  });

  it('refuses a short secret without repeating it', () => {
    expect(() => validate({ JWT_SECRET: 'hunter2hunter2' })).toThrow(
      /^(?![\s\S]*hunter2)[\s\S]*JWT_SECRET must be a secret of at least 16 characters/,
    );
  });
});

describe('token settings', () => {
  const problems = (environment: Record<string, string>) => {
    try {
      validate(environment);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as ConfigurationError).problems;
    }
    return [];
  };

  it('refuses to start in production with the development secret, set or defaulted', () => {
    for (const environment of [{}, { JWT_SECRET: DEV_JWT_SECRET }] as Record<string, string>[]) {
      expect(problems({ NODE_ENV: 'production', ...environment })).toEqual([
        expect.stringMatching(/^JWT_SECRET must be set when NODE_ENV=production/),
      ]);
    }
    expect(problems({ NODE_ENV: 'production', JWT_SECRET: SECRET })).toEqual([]);
    expect(problems({ NODE_ENV: 'development' })).toEqual([]);
  });

  it('requires the issuer with a provider key, and one kind of key only', () => {
    expect(problems({ IDP_JWKS_URL: 'https://id.example.test/certs' })).toEqual([
      expect.stringMatching(/^IDP_ISSUER must be set with IDP_JWKS_URL or IDP_PUBLIC_KEY/),
    ]);
    expect(
      problems({
        IDP_JWKS_URL: 'https://id.example.test/certs',
        IDP_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----',
        IDP_ISSUER: 'https://id.example.test',
      }),
    ).toEqual([expect.stringMatching(/^IDP_JWKS_URL cannot be combined with IDP_PUBLIC_KEY/)]);
  });

  it('reads IDP_ALGORITHMS as a list of asymmetric algorithms', () => {
    expect(validate({}).IDP_ALGORITHMS).toEqual(['RS256', 'ES256']);
    expect(validate({ IDP_ALGORITHMS: 'ES384, EdDSA' }).IDP_ALGORITHMS).toEqual(['ES384', 'EdDSA']);
    expect(problems({ IDP_ALGORITHMS: 'RS256,HS256' })).toEqual([
      expect.stringMatching(/^IDP_ALGORITHMS/),
    ]);
  });
});
