import { describe, expect, it } from '@jest/globals';
import { DEV_JWT_SECRET, environmentValidator, ServiceEnvironment } from '../config/environment.js';

const validate = environmentValidator(ServiceEnvironment);

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
