import { describe, expect, it } from '@jest/globals';
import { ConnectionLostError } from './database.js';
import { DependencyUnavailableError, isConflict, isTransient } from './transient.js';

const sqlError = (code: string) => Object.assign(new Error(`sql ${code}`), { code });

describe('telling a dependency failure from a failure of the work', () => {
  it.each([
    ['a terminated backend', sqlError('57P01')],
    ['a connection failure', sqlError('08006')],
    ['a deadlock', sqlError('40P01')],
    ['a statement timeout', sqlError('57014')],
    ['a refused connection', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })],
    ['a socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['an exhausted pool', new Error('timeout exceeded when trying to connect')],
    ['a lost transaction', new ConnectionLostError('transaction "x"', sqlError('57P01'))],
    ['a service that cannot be reached', new DependencyUnavailableError('order API down')],
    [
      'TypeORM wrapping a driver error',
      Object.assign(new Error('q'), { driverError: sqlError('57P01') }),
    ],
  ])('counts %s as a dependency failure', (_, error) => {
    expect(isTransient(error)).toBe(true);
  });

  it.each([
    ['a unique violation', sqlError('23505')],
    ['a check violation', sqlError('23514')],
    ['a syntax error', sqlError('42601')],
    ['a bug', new TypeError('cannot read properties of undefined')],
  ])('counts %s against the work', (_, error) => {
    expect(isTransient(error)).toBe(false);
  });

  it('tells a lost race from an outage', () => {
    expect(isConflict(sqlError('40P01'))).toBe(true);
    expect(isConflict(sqlError('40001'))).toBe(true);
    expect(isConflict(sqlError('57P01'))).toBe(false);
  });
});
