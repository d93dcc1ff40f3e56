import { describe, expect, it } from '@jest/globals';
import type { HttpRequest } from './http/http-exchange.js';
import { requestMetadata } from './request-metadata.js';
import { isValidTraceparent } from './tracing/tracing.js';

describe('headers from clients', () => {
  const request = (headers: Record<string, string>) =>
    // What requestMetadata reads of a request: its headers, and the id Fastify gave it.
    ({ id: 'req-1', headers }) as unknown as HttpRequest;

  it('passes on a W3C traceparent and nothing else that claims to be one', () => {
    expect(isValidTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      true,
    );
    for (const bad of [
      'x',
      '',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ]) {
      expect(isValidTraceparent(bad)).toBe(false);
    }
  });

  it('records only checked headers in an event’s metadata', () => {
    expect(
      requestMetadata(request({ traceparent: 'x', 'x-correlation-id': '' }), { id: 'c-1' }),
    ).toEqual({ correlationId: 'req-1', causationId: 'req-1', userId: 'c-1' });
    expect(
      requestMetadata(
        request({
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          'x-correlation-id': 'checkout-7',
        }),
        { id: 'c-1' },
      ),
    ).toEqual({
      correlationId: 'checkout-7',
      causationId: 'req-1',
      userId: 'c-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
  });
});
