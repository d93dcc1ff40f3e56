// Prepares RabbitMQ for the system, as its administrator: `npm run broker-setup`, also the first
// step of `npm start` and a one-shot service in docker-compose.
//  1. Declares the whole topology (every exchange, queue, dead-letter queue and binding), so an
//     event published before its consumer first started waits in that consumer's queue. Each
//     service then declares only what it owns.
//  2. For each service whose <SERVICE>_RABBITMQ_PASSWORD is set, makes (or updates) its own user,
//     <SERVICE_ROLE_PREFIX><service>, allowed only its own exchanges and queues in the virtual
//     host of RABBITMQ_URL (libs/contracts' brokerPermissionsOf says exactly what).
// Users are made through the management API (RABBITMQ_MANAGEMENT_URL), or with `rabbitmqctl`
// when the API does not answer and the broker is on this machine. Idempotent: run it again, it
// resets each user's password and permissions.
import './dot-env.mjs';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import amqplib from 'amqplib';

const SERVICES = ['order', 'inventory', 'notification'];
const WAIT_FOR_BROKER_MS = 30_000;

const contractsPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '../dist/apps/order/libs/contracts/src/index.js',
);
if (!existsSync(contractsPath)) {
  console.error('broker-setup: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { brokerPermissionsOf, declareTopology } = await import(pathToFileURL(contractsPath).href);

// The first node of a cluster: what it declares, and the users it makes, are the cluster's.
const url = new URL(
  (process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672').split(',')[0].trim(),
);
const vhost = decodeURIComponent(url.pathname.slice(1)) || '/';
const shown = `${url.hostname}:${url.port || 5672} (virtual host ${vhost})`;
const prefix = process.env.SERVICE_ROLE_PREFIX ?? 'ordering_';

async function connect() {
  const deadline = Date.now() + WAIT_FOR_BROKER_MS;
  for (;;) {
    try {
      return await amqplib.connect(url.toString());
    } catch (error) {
      if (Date.now() > deadline) {
        console.error(`broker-setup: cannot reach RabbitMQ at ${shown}: ${error.message}`);
        process.exit(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function managementUrl() {
  if (process.env.RABBITMQ_MANAGEMENT_URL) return new URL(process.env.RABBITMQ_MANAGEMENT_URL);
  const derived = new URL(`http://${url.hostname}:15672`);
  derived.username = url.username || 'guest';
  derived.password = url.password || 'guest';
  return derived;
}

/** True if the management API did it; false if it does not answer (no plugin, say). */
async function manage(path, body) {
  const base = managementUrl();
  const credentials = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
  const target = new URL(`/api/${path}`, `${base.protocol}//${base.host}`);
  let response;
  try {
    response = await fetch(target, {
      method: 'PUT',
      headers: {
        authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  } catch {
    return false;
  }
  if (response.ok) return true;
  throw new Error(`management API ${path}: ${response.status} ${await response.text()}`);
}

/** Runs rabbitmqctl, with `input` on its standard input (passwords never on a command line). */
function rabbitmqctl(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn('rabbitmqctl', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`rabbitmqctl ${args[0]}: ${stderr.trim()}`)),
    );
    child.stdin.end(input === undefined ? '' : `${input}\n`);
  });
}

async function makeUser(name, password, permissions) {
  const viaApi =
    (await manage(`users/${encodeURIComponent(name)}`, { password, tags: '' })) &&
    (await manage(
      `permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`,
      permissions,
    ));
  if (viaApi) return 'management API';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    // rabbitmqctl would change the broker on this machine, not the one in RABBITMQ_URL.
    throw new Error(`the management API at ${managementUrl().host} does not answer`);
  }
  await rabbitmqctl(['add_user', name], password).catch(() =>
    rabbitmqctl(['change_password', name], password),
  );
  const { configure, write, read } = permissions;
  await rabbitmqctl(['set_permissions', '-p', vhost, name, configure, write, read]);
  return 'rabbitmqctl';
}

const connection = await connect();
// A refused declaration closes the channel with an error event: what it says is caught below.
connection.on('error', () => undefined);
try {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  await declareTopology(channel);
} catch (error) {
  const inequivalent = /PRECONDITION_FAILED - inequivalent arg '([^']+)' for queue '([^']+)'/.exec(
    error.message,
  );
  if (!inequivalent) throw error;
  // Queues cannot change their arguments in place. Before the redelivery exchanges, queues
  // dead-lettered through the default exchange, which a service's own user may not write to.
  const [, argument, queue] = inequivalent;
  console.error(
    `broker-setup: queue ${queue} was declared with another ${argument} (by an earlier version). ` +
      'Stop its consumer, let it drain or move its messages elsewhere, delete the queue, and run ' +
      'this again: it is declared anew with its bindings.',
  );
  process.exit(1);
} finally {
  await connection.close().catch(() => undefined);
}
console.log(`broker-setup: topology declared on ${shown}`);

for (const service of SERVICES) {
  const password = process.env[`${service.toUpperCase()}_RABBITMQ_PASSWORD`];
  if (!password) continue;
  const name = `${prefix}${service}`;
  const permissions = brokerPermissionsOf(service);
  const how = await makeUser(name, password, permissions);
  console.log(
    `broker-setup: user ${name} (${how}) may configure ${permissions.configure}, ` +
      `write ${permissions.write}, read ${permissions.read}`,
  );
}
