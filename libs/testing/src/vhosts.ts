import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { RABBITMQ_URL } from './databases.js';

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
 * the broker is local and the plugin is off.
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
  return {
    url: url.toString(),
    remove: async () => {
      if (!(await manage('DELETE', `vhosts/${name}`))) {
        await run('rabbitmqctl', ['delete_vhost', name]).catch(() => undefined);
      }
    },
  };
}
