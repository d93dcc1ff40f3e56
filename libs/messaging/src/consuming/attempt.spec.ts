import { describe, expect, it } from '@jest/globals';
import { attemptOf, retryDelay } from './rabbitmq-consumer.js';

const withAttempt = (value: unknown) =>
  ({
    properties: { headers: value === undefined ? {} : { 'x-attempt': value } },
  }) as Parameters<typeof attemptOf>[0];

describe('which delivery a message is on', () => {
  it('reads our own x-attempt header', () => {
    expect(attemptOf(withAttempt(undefined))).toBe(1);
    expect(attemptOf(withAttempt(3))).toBe(3);
    expect(attemptOf(withAttempt('4'))).toBe(4);
  });

  it.each(['x', '', -1, 0, 2.5, '2.5', 1e9, Number.NaN, null, { n: 2 }, [2]])(
    'takes %p for a first delivery, never a crash or an endless retry',
    (value) => {
      expect(attemptOf(withAttempt(value))).toBe(1);
    },
  );

  it('backs off exponentially up to the longest delay', () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4].map((attempt) => retryDelay(policy, attempt))).toEqual([
      100, 200, 400, 500,
    ]);
  });
});
