import { describe, expect, it } from '@jest/globals';
import { redactUrl } from './connection-url.js';

describe('redactUrl', () => {
  it('masks the password of the user part', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/orders')).toBe(
      'postgres://app:***@db:5432/orders',
    );
  });

  it('masks a password given as a query parameter, and keeps the other parameters', () => {
    const redacted = redactUrl(
      'postgres://app@db/orders?password=s3cret&sslmode=require&sslpassword=k3y',
    );
    expect(redacted).not.toContain('s3cret');
    expect(redacted).not.toContain('k3y');
    expect(redacted).toContain('sslmode=require');
  });

  it('says so instead of printing what it cannot parse', () => {
    expect(redactUrl('not a url with p4ss')).toBe('<unparseable url>');
  });
});
