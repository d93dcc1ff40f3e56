import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import {
  createTestVhost,
  databaseUrl,
  dropDatabase,
  eventually,
  freePort,
  httpClient,
  ServiceProcess,
  TcpProxy,
  tokenFor,
  uniqueDatabaseName,
  type ServiceName,
} from '@ordering/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const SERVICES: ServiceName[] = ['order', 'inventory', 'notification'];

describe('a service asked to stop', () => {
  const databases: string[] = [];
  afterAll(() => Promise.all(databases.map(dropDatabase)));

  it('exits within its shutdown deadline even when its database stops answering', async () => {
    const database = uniqueDatabaseName('order');
    databases.push(database);
    const proxy = await new TcpProxy('127.0.0.1', 5432).start();
    const url = new URL(databaseUrl(database));
    url.port = String(proxy.port);
    const port = await freePort();
    const vhost = await createTestVhost('lifecycle');
    const order = new ServiceProcess('order', port, {
      ORDER_HTTP_PORT: String(port),
      ORDER_DATABASE_URL: url.toString(),
      RABBITMQ_URL: vhost.url,
    });
    try {
      await order.start();
      // PostgreSQL goes silent (no FIN, no RST: a half-open connection) with a request in hand.
      proxy.freeze();
      const hanging = httpClient(order.url)('POST', '/orders', {
        token: tokenFor('customer-1'),
        body: { items: [{ sku: 'MUG', quantity: 1 }] },
      }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));

      const asked = Date.now();
      const code = await order.stop('SIGTERM');
      const took = Date.now() - asked;
      expect(took).toBeLessThan(11_000);
      expect(code).toBe(1);
      expect(order.output).toContain('did not stop within 8000 ms of SIGTERM');
      await hanging;
    } finally {
      await order.stop('SIGKILL');
      await proxy.stop();
      await vhost.remove();
    }
  }, 40_000);
});

/** `npm start`'s launcher, on databases and a virtual host of its own. */
class Launcher {
  child?: ChildProcess;
  output = '';
  readonly ports: Record<ServiceName, number> = { order: 0, inventory: 0, notification: 0 };
  private readonly databases: string[] = [];
  private vhost?: { url: string; remove: () => Promise<void> };

  async start(env: Record<string, string> = {}): Promise<this> {
    this.vhost = await createTestVhost('launcher');
    const serviceEnv: Record<string, string> = {};
    for (const name of SERVICES) {
      const database = uniqueDatabaseName(name);
      this.databases.push(database);
      this.ports[name] = await freePort();
      serviceEnv[`${name.toUpperCase()}_DATABASE_URL`] = databaseUrl(database);
      serviceEnv[`${name.toUpperCase()}_HTTP_PORT`] = String(this.ports[name]);
    }
    this.child = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...serviceEnv,
        RABBITMQ_URL: this.vhost.url,
        ORDER_API_URL: `http://127.0.0.1:${this.ports.order}`,
        INVENTORY_DEMO_CATALOGUE: 'false',
        LOG_LEVEL: 'warn',
        START_RESTART_DELAY_MS: '200',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    return this;
  }

  /** The pids it started `name` with, in order. */
  pids(name: ServiceName): number[] {
    const pattern = new RegExp(`^${name}\\s*\\| started \\(pid (\\d+)\\)$`, 'gm');
    return [...this.output.matchAll(pattern)].map((match) => Number(match[1]));
  }

  async healthy(name: ServiceName): Promise<void> {
    const response = await fetch(`http://127.0.0.1:${this.ports[name]}/health`);
    if (response.status !== 200) throw new Error(`${name} /health answered ${response.status}`);
  }

  async exited(): Promise<number | null> {
    const child = this.child!;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const [code] = await once(child, 'exit');
    return code as number | null;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited();
    }
    await Promise.all(this.databases.map(dropDatabase));
    await this.vhost?.remove();
  }
}

describe('npm start’s launcher', () => {
  let launcher: Launcher | undefined;
  afterEach(async () => {
    await launcher?.stop();
    launcher = undefined;
  });

  it('restarts a service that was killed, while the other services keep running', async () => {
    launcher = await new Launcher().start();
    const system = launcher;
    await eventually(() => Promise.all(SERVICES.map((name) => system.healthy(name))), {
      timeoutMs: 60_000,
    });
    const [inventory] = system.pids('inventory');
    const others = { order: system.pids('order'), notification: system.pids('notification') };

    process.kill(inventory, 'SIGKILL');
    await eventually(() => expect(system.pids('inventory')).toHaveLength(2), { timeoutMs: 10_000 });
    // The others answer throughout, and are the same processes.
    await Promise.all([system.healthy('order'), system.healthy('notification')]);
    await eventually(() => system.healthy('inventory'), { timeoutMs: 30_000 });
    expect(system.output).toMatch(/inventory\s*\| exited \(SIGKILL\); restarting in/);
    expect({ order: system.pids('order'), notification: system.pids('notification') }).toEqual(
      others,
    );
    await Promise.all([system.healthy('order'), system.healthy('notification')]);
  }, 120_000);

  it('gives up on a service that keeps dying right after it starts, and says why', async () => {
    launcher = await new Launcher().start({ NOTIFICATION_EMAIL_DOMAIN: 'not a domain' });
    const code = await launcher.exited();
    expect(code).not.toBe(0);
    expect(launcher.pids('notification')).toHaveLength(5);
    expect(launcher.output).toMatch(
      /notification\s*\| exited \(code 1\) 5 times in a row, each within 10 s of starting: giving up/,
    );
    // What the service itself said is repeated, so the reason is right there.
    expect(launcher.output).toMatch(/notification\s*\| {3}.*NOTIFICATION_EMAIL_DOMAIN/);
  }, 120_000);
});
