// The whole system as users run it: the three built services as separate processes (the dist
// entry points, configured only through environment variables), each with a throwaway database,
// sharing a throwaway RabbitMQ virtual host. Everything is removed at the end, on failure and on
// Ctrl-C, like the e2e tests' OrderingSystem (libs/testing/src/system.ts), which bench cannot
// import (TypeScript).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signToken } from '../../scripts/sign-token.mjs';
import { createDatabase, createVhost, onCleanup, ROOT } from './env.mjs';
import { sleep } from './stats.mjs';

export const SERVICES = ['order', 'inventory', 'notification'];
const OUTPUT_KEPT = 20_000;

export const entryPoint = (service) =>
  join(ROOT, `dist/apps/${service}/apps/${service}/src/main.js`);

/** A bearer token as `npm run token` prints it (`sub` is the customer id), valid 6 hours. */
export const tokenFor = (subject, { admin = false } = {}) =>
  signToken(subject, { admin, ttlSeconds: 6 * 3600 });

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Last resort if the runner dies without cleaning up: no service outlives it.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function startProcess(service, env, nodeArgs) {
  const child = spawn(process.execPath, [...nodeArgs, entryPoint(service)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => children.delete(child));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    service,
    pid: child.pid,
    get output() {
      return output;
    },
    running,
    /** SIGTERM (a graceful stop), then SIGKILL if it is still there after `graceMs`. */
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitHealthy(proc, url, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    if (!proc.running()) throw new Error(`${proc.service} exited at start:\n${proc.output}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error.message;
    }
    await sleep(200);
  }
  throw new Error(`${proc.service} not healthy after ${timeoutMs} ms (${last}):\n${proc.output}`);
}

/**
 * Starts order, inventory and notification on free ports with `env` added to their environment
 * (and `nodeArgs` on node's command line, `--cpu-prof` say), and waits until each answers
 * `GET /health` with 200. Returns their URLs and pids, the vhost's AMQP URL, and `stop()` (also
 * registered as a clean-up, before the databases are dropped).
 */
export async function startSystem(scenario, { env = {}, nodeArgs = [] } = {}) {
  const missing = SERVICES.map(entryPoint).filter((file) => !existsSync(file));
  if (missing.length) throw new Error(`not built (run \`npm run build\`): ${missing.join(', ')}`);
  const vhost = await createVhost(scenario);
  if (!vhost) throw new Error('cannot make a RabbitMQ virtual host (management API, rabbitmqctl)');
  const databases = {};
  const processes = {};
  const ports = {};
  let urls;
  let stopProcesses = async () => undefined;
  const stop = async () => {
    await stopProcesses();
    for (const database of Object.values(databases)) await database.drop();
    await vhost.remove();
  };
  try {
    // As `npm start` does: the whole topology first, so no early event is unroutable.
    await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/broker-setup.mjs')], {
      env: { ...process.env, RABBITMQ_URL: vhost.url },
    });
    for (const service of SERVICES) {
      databases[service] = await createDatabase(scenario, `_${service}`);
      ports[service] = await freePort();
    }
    // Registered after the databases: clean-ups run newest first, so on Ctrl-C the services stop
    // before their databases are dropped under them.
    stopProcesses = onCleanup(() => Promise.all(Object.values(processes).map((p) => p.stop())));
    urls = Object.fromEntries(SERVICES.map((s) => [s, `http://127.0.0.1:${ports[s]}`]));
    for (const service of SERVICES) {
      const upper = service.toUpperCase();
      processes[service] = startProcess(
        service,
        {
          [`${upper}_HTTP_PORT`]: String(ports[service]),
          [`${upper}_DATABASE_URL`]: databases[service].url,
          RABBITMQ_URL: vhost.url,
          ORDER_API_URL: urls.order,
          INVENTORY_DEMO_CATALOGUE: 'false',
          LOG_FORMAT: 'json',
          LOG_LEVEL: 'warn',
          // 64 customers placing as fast as they can are far above a person's rate limit: the
          // bench measures the pipeline (the guard still runs, and costs what it costs).
          RATE_LIMIT_CALLER_WRITES: '1000000000',
          RATE_LIMIT_ANONYMOUS_REQUESTS: '1000000000',
          ...env,
        },
        nodeArgs,
      );
    }
    await Promise.all(SERVICES.map((s) => waitHealthy(processes[s], urls[s], 60_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls,
    pids: Object.fromEntries(SERVICES.map((s) => [s, processes[s].pid])),
    databases: Object.fromEntries(SERVICES.map((s) => [s, databases[s].name])),
    vhost,
    /** Throws with the service's last output if one of them has died. */
    check() {
      for (const p of Object.values(processes))
        if (!p.running()) throw new Error(`${p.service} died:\n${p.output}`);
    },
    stop,
  };
}
