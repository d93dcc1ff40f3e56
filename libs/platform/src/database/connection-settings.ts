import pg from 'pg';

/**
 * Every PostgreSQL connection of a service is one of these: it listens for `error` from the
 * moment it exists to the moment it is gone. node-postgres emits `error` on a client whenever its
 * backend is terminated or its socket drops, and an `error` nobody listens to kills the process.
 * pg-pool and TypeORM each listen only part of the time (a new pooled client handed to TypeORM
 * has none until a promise callback runs, after the rest of the socket's chunk has been parsed),
 * so the listener must belong to the client itself. Whoever is using the client when it breaks
 * learns of it through a listener of its own or its failing query, and reports it; this one only
 * keeps the process up.
 */
export class GuardedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

/** Statements that run longer than this are cancelled by the server (migrations included). */
export const STATEMENT_TIMEOUT_MS = 30_000;
/**
 * A statement whose answer never comes (a half-open socket: the server is gone without a FIN) is
 * given up on the client's side after this, and its connection thrown away.
 */
export const QUERY_TIMEOUT_MS = 35_000;

/**
 * How every connection is made, pooled or dedicated: TCP keepalive on both ends (the server
 * notices a vanished client within about 25 s and frees its locks, a relay's leader lock
 * included), statement and idle-in-transaction timeouts, and a client-side answer timeout.
 */
export function connectionSettings(url: string, applicationName: string): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: 60_000,
    options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
  };
}
