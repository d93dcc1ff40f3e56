// What every scenario needs: the servers' addresses, throwaway databases and virtual hosts that
// are always removed (even on Ctrl-C), the project's compiled code, and a description of the
// machine.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import pg from 'pg';

const run = promisify(execFile);

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const RABBITMQ_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MANAGEMENT_URL =
  process.env.BENCH_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';

/** A name no other run uses: `bench_<scenario>_<8 hex>` (letters, digits and underscores). */
export function uniqueName(scenario) {
  return `bench_${scenario.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

// ---- Clean-up that survives Ctrl-C -------------------------------------------------------------

const cleanups = new Set();

/** Registers `fn` to run at the end (or on interruption); returns a function that runs it once. */
export function onCleanup(fn) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    cleanups.delete(once);
    await fn();
  };
  cleanups.add(once);
  return once;
}

export async function cleanUpEverything() {
  for (const cleanup of [...cleanups].reverse()) {
    await cleanup().catch((error) => process.stderr.write(`clean-up failed: ${error.message}\n`));
  }
}

// ---- PostgreSQL ------------------------------------------------------------------------------------

export function databaseUrl(name) {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin(work) {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** A throwaway database, dropped by `drop()` (or at exit). */
export async function createDatabase(scenario, suffix = '') {
  const name = uniqueName(scenario) + suffix;
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
  const drop = onCleanup(() =>
    withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  );
  return { name, url: databaseUrl(name), drop };
}

/** Applies the project's own migrations (compiled, from dist) with TypeORM, in order. */
export async function migrate(url, migrations) {
  const { DataSource } = await import('typeorm');
  const dataSource = new DataSource({ type: 'postgres', url, migrations });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

// ---- RabbitMQ ------------------------------------------------------------------------------------

async function manage(method, path, body) {
  const url = new URL(`/api/${path}`, MANAGEMENT_URL);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  url.username = '';
  url.password = '';
  try {
    const response = await fetch(url, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * A throwaway RabbitMQ virtual host (through the management API, or `rabbitmqctl` on a local
 * broker without the plugin), deleted with everything in it by `remove()`. Returns undefined when
 * neither works: the caller then uses the default vhost with unique names.
 */
export async function createVhost(scenario) {
  const name = uniqueName(scenario);
  const user = decodeURIComponent(new URL(RABBITMQ_URL).username) || 'guest';
  let how;
  if (
    (await manage('PUT', `vhosts/${name}`)) &&
    (await manage('PUT', `permissions/${name}/${user}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    }))
  ) {
    how = 'management API';
  } else {
    try {
      await run('rabbitmqctl', ['add_vhost', name], { timeout: 30_000 });
      await run('rabbitmqctl', ['set_permissions', '-p', name, user, '.*', '.*', '.*'], {
        timeout: 30_000,
      });
      how = 'rabbitmqctl';
    } catch {
      return undefined;
    }
  }
  const remove = onCleanup(async () => {
    if (!(await manage('DELETE', `vhosts/${name}`))) {
      await run('rabbitmqctl', ['delete_vhost', name], { timeout: 30_000 }).catch(() => undefined);
    }
  });
  const url = new URL(RABBITMQ_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), remove, how };
}

/**
 * Declares a durable quorum queue (what the project's consumers use) bound to a new durable topic
 * exchange, both with unique names, deleted by `remove()` (or at exit).
 */
export async function declareQueue(channelModel, scenario) {
  const base = uniqueName(scenario).replaceAll('_', '.');
  const exchange = `${base}.events`;
  const queue = `${base}.queue`;
  const channel = await channelModel.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(queue, exchange, '#');
  await channel.close();
  const remove = onCleanup(async () => {
    // A fresh connection: the caller's may already be closed.
    const connection = await amqplib.connect(channelModel.bench_url ?? RABBITMQ_URL);
    try {
      const ch = await connection.createChannel();
      await ch.deleteQueue(queue);
      await ch.deleteExchange(exchange);
      await ch.close();
    } finally {
      await connection.close();
    }
  });
  return { exchange, queue, remove };
}

/** An amqplib connection that remembers its URL (for clean-up) and is closed at exit. */
export async function connectBroker(url = RABBITMQ_URL, name = 'bench') {
  const connection = await amqplib.connect(url, { clientProperties: { connection_name: name } });
  connection.bench_url = url;
  const close = onCleanup(() => connection.close().catch(() => undefined));
  connection.bench_close = close;
  return connection;
}

// ---- The project's compiled code -----------------------------------------------------------------

export const DIST = join(ROOT, 'dist/apps/order/libs');
const REQUIRED = ['event-store/src/index.js', 'messaging/src/index.js', 'platform/src/index.js'];

/** Builds the project (`npm run build`) when its compiled libraries are missing. */
export function ensureBuilt(log = (m) => process.stderr.write(`${m}\n`)) {
  if (REQUIRED.every((file) => existsSync(join(DIST, file)))) return;
  log('dist/ is missing: running `npm run build` first');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error('npm run build failed');
}

/** Imports one of the project's compiled libraries: `dist('event-store')`. */
export function dist(lib) {
  return import(pathToFileURL(join(DIST, lib, 'src/index.js')).href);
}

// ---- The machine -----------------------------------------------------------------------------

export async function machineInfo() {
  const cpus = os.cpus();
  const info = {
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: 'unknown',
    pgbench: 'unknown',
    rabbitmq: 'unknown',
    erlang: undefined,
    commit: 'unknown',
  };
  await withAdmin(async (admin) => {
    const { rows } = await admin.query('SHOW server_version');
    info.postgres = rows[0].server_version;
    const settings = await admin.query(
      `SELECT name, current_setting(name) AS setting FROM pg_settings
       WHERE name IN ('max_connections', 'shared_buffers', 'synchronous_commit', 'fsync', 'wal_level')`,
    );
    info.postgresSettings = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
  }).catch(() => undefined);
  try {
    const connection = await amqplib.connect(RABBITMQ_URL);
    const props = connection.connection.serverProperties ?? {};
    info.rabbitmq = String(props.version ?? 'unknown');
    await connection.close();
  } catch {
    /* reported as unknown */
  }
  try {
    const { stdout } = await run('pgbench', ['--version']);
    info.pgbench = stdout.trim().replace(/^pgbench \(PostgreSQL\) /, '');
  } catch {
    /* reported as unknown */
  }
  try {
    const { stdout } = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT });
    const status = await run('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
    });
    info.commit = stdout.trim() + (status.stdout.trim() ? ' (with uncommitted changes)' : '');
  } catch {
    /* reported as unknown */
  }
  return info;
}
