import amqplib from 'amqplib';
import { redactUrl } from '../connection-url.js';
import { ensureDatabase } from '../database/ensure-database.js';
import { withTimeout } from '../with-timeout.js';

/** A dependency the service cannot start without, explained for the person who started it. */
export class UnreachableDependencyError extends Error {
  override name = 'UnreachableDependencyError';
}

const TIMEOUT_MS = 5000;

function hostOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('amqp') ? 5672 : 5432)}`;
}

/** Checks PostgreSQL (creating the service's database if missing) and RabbitMQ before Nest starts. */
export async function preflight(checks: {
  databaseUrl: string;
  databaseUrlVariable: string;
  rabbitmqUrls: readonly string[];
}): Promise<void> {
  try {
    await withTimeout(ensureDatabase(checks.databaseUrl), TIMEOUT_MS, 'PostgreSQL');
  } catch (error) {
    throw new UnreachableDependencyError(
      [
        `PostgreSQL is not reachable at ${hostOf(checks.databaseUrl)} ` +
          `(${checks.databaseUrlVariable}=${redactUrl(checks.databaseUrl)}): ${reason(error)}.`,
        'Start it, for example with one of:',
        '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
        '  docker compose up -d postgres',
        `or set ${checks.databaseUrlVariable} to a server that is running.`,
      ].join('\n'),
    );
  }
  // One node of a cluster answering is enough: the connection moves between them by itself.
  const unreachable: string[] = [];
  for (const url of checks.rabbitmqUrls) {
    try {
      const connection = await withTimeout(amqplib.connect(url), TIMEOUT_MS, 'RabbitMQ');
      await connection.close();
      return;
    } catch (error) {
      unreachable.push(`${hostOf(url)} (${redactUrl(url)}): ${reason(error)}`);
    }
  }
  throw new UnreachableDependencyError(
    [
      `RabbitMQ is not reachable at ${unreachable.join('; nor at ')} (RABBITMQ_URL).`,
      'Start it, for example with one of:',
      '  rabbitmq-server -detached',
      '  docker compose up -d rabbitmq',
      'or set RABBITMQ_URL to a broker that is running.',
    ].join('\n'),
  );
}

function reason(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? message ?? String(error);
}
