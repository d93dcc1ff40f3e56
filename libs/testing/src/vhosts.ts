import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { declareTopology } from '@ordering/contracts';
import amqplib from 'amqplib';
import { RABBITMQ_URL } from './databases.js';
import type { ServiceName } from './service-process.js';

const run = promisify(execFile);
const MANAGEMENT_URL =
  process.env.TEST_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';

async function manage(method: string, path: string, body?: unknown): Promise<boolean> {
  const url = new URL(`/api/${path}`, MANAGEMENT_URL);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  url.username = '';
  url.password = '';
  try {
    const response = await fetch(url, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * A RabbitMQ virtual host of its own for one suite, so suites that run whole services side by side
 * never consume each other's messages. Made through the management API, or `rabbitmqctl` where
 * the broker is local and the plugin is off; with the system's whole topology declared in it, as
 * `scripts/broker-setup.mjs` does before the services start.
 */
export async function createTestVhost(
  prefix: string,
): Promise<{ url: string; remove: () => Promise<void> }> {
  const name = `test_${prefix}_${randomBytes(4).toString('hex')}`;
  const user = new URL(RABBITMQ_URL).username || 'guest';
  const created =
    (await manage('PUT', `vhosts/${name}`)) &&
    (await manage('PUT', `permissions/${name}/${user}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    }));
  if (!created) {
    await run('rabbitmqctl', ['add_vhost', name]);
    await run('rabbitmqctl', ['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  }
  const url = new URL(RABBITMQ_URL);
  url.pathname = `/${name}`;
  const connection = await amqplib.connect(url.toString());
  try {
    await declareTopology(await connection.createChannel());
  } finally {
    await connection.close();
  }
  return {
    url: url.toString(),
    remove: async () => {
      if (!(await manage('DELETE', `vhosts/${name}`))) {
        await run('rabbitmqctl', ['delete_vhost', name]).catch(() => undefined);
      }
    },
  };
}

const BROKER_SETUP = path.resolve(import.meta.dirname, '../../../scripts/broker-setup.mjs');
const SERVICES: ServiceName[] = ['order', 'inventory', 'notification'];

/**
 * A RabbitMQ user of its own for each service in the virtual host at `vhostUrl`, made by
 * `scripts/broker-setup.mjs` as in production, and the URL each service connects with.
 */
export async function createServiceBrokerUsers(
  vhostUrl: string,
): Promise<{ urls: Record<ServiceName, string>; remove: () => Promise<void> }> {
  const prefix = `test_${randomBytes(3).toString('hex')}_`;
  const password = (service: ServiceName) => `${service}-${prefix}password`;
  await run(process.execPath, [BROKER_SETUP], {
    env: {
      ...process.env,
      RABBITMQ_URL: vhostUrl,
      RABBITMQ_MANAGEMENT_URL: MANAGEMENT_URL,
      SERVICE_ROLE_PREFIX: prefix,
      ...Object.fromEntries(
        SERVICES.map((service) => [
          `${service.toUpperCase()}_RABBITMQ_PASSWORD`,
          password(service),
        ]),
      ),
    },
  });
  const urls = Object.fromEntries(
    SERVICES.map((service) => {
      const url = new URL(vhostUrl);
      url.username = `${prefix}${service}`;
      url.password = password(service);
      return [service, url.toString()];
    }),
  ) as Record<ServiceName, string>;
  return {
    urls,
    remove: async () => {
      for (const service of SERVICES) {
        const user = `${prefix}${service}`;
        if (!(await manage('DELETE', `users/${user}`))) {
          await run('rabbitmqctl', ['delete_user', user]).catch(() => undefined);
        }
      }
    },
  };
}
