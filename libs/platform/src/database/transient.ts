/**
 * A dependency of the work (a database, the order API) was unreachable or gave up on it: the work
 * itself did nothing wrong. Retry it until the dependency is back, and never count it against a
 * message's retry budget.
 */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
}

// SQLSTATEs that say "the server or the connection failed", or "try again", never "your work is
// wrong": connection exceptions (08), operator intervention (57P01-57P05: terminated, shutting
// down, cannot connect now, database dropped, idle session timeout), too many connections,
// serialization failures and deadlocks, lock and statement timeouts (57014) under load.
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '53300',
  '55P03',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
]);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// node-postgres and pg-pool say so in words only.
const TRANSIENT_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /is not queryable/,
  /^Connection lost/,
];

/**
 * Whether `error` is the failure of a dependency (retry it as it is, for as long as it takes)
 * rather than of the work (count the attempt; dead-letter it in the end).
 */
export function isTransient(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof DependencyUnavailableError) return true;
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (TRANSIENT_SQLSTATES.has(code) || code.startsWith('08')) return true;
      if (TRANSIENT_NODE_CODES.has(code)) return true;
    }
    if (
      typeof message === 'string' &&
      TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))
    ) {
      return true;
    }
    cause =
      (cause as { cause?: unknown; driverError?: unknown }).cause ??
      (cause as { driverError?: unknown }).driverError;
  }
  return false;
}

/**
 * A transaction that lost a race with another (a deadlock victim, a serialization failure):
 * nothing is down, so it is tried again at once rather than after a growing pause.
 */
export function isConflict(error: unknown): boolean {
  const code =
    (error as { code?: unknown }).code ??
    (error as { driverError?: { code?: unknown } }).driverError?.code;
  return code === '40P01' || code === '40001';
}
