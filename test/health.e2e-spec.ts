import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestVhost,
  databaseUrl,
  dropDatabase,
  eventually,
  freePort,
  ServiceProcess,
  TcpProxy,
  uniqueDatabaseName,
  type ServiceName,
} from '@ordering/testing';

interface Health {
  status: string;
  error: Record<string, { status: string; message?: string }>;
}

async function health(
  service: ServiceProcess,
  path = '/health',
): Promise<{ status: number; body: Health }> {
  const response = await fetch(`${service.url}${path}`);
  return { status: response.status, body: (await response.json()) as Health };
}

/** What the public health answer must never show: where the database and the broker are. */
function expectNothingOfWhere(body: unknown, database: string) {
  const text = JSON.stringify(body);
  for (const secret of ['127.0.0.1', 'localhost', 'postgres', 'amqp', 'guest', ':5432', ':5672']) {
    expect(text).not.toContain(secret);
  }
  expect(text).not.toContain(database);
}

/** Waits until `/health` answers `status`; a timeout shows the last answer, for diagnosis. */
function healthReaches(service: ServiceProcess, status: number, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const result = await health(service).catch((error: Error) => {
        throw new Error(
          `/health failed (${error.message}); the service said:\n${service.output.slice(-4000)}`,
        );
      });
      if (result.status !== status) {
        throw new Error(`/health answered ${result.status}: ${JSON.stringify(result.body)}`);
      }
      return result.body;
    },
    { timeoutMs },
  );
}

const SERVICES: ServiceName[] = ['order', 'inventory', 'notification'];

describe('GET /health of each service, run as built', () => {
  const databases: string[] = [];
  const running: ServiceProcess[] = [];
  // With the whole topology declared in it, as `npm run broker-setup` does before a service starts.
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;

  beforeAll(async () => {
    vhost = await createTestVhost('health');
  });

  async function launch(service: ServiceName, overrides: Record<string, string> = {}) {
    const database = uniqueDatabaseName(service);
    databases.push(database);
    const upper = service.toUpperCase();
    const process = new ServiceProcess(service, await freePort(), {
      [`${upper}_DATABASE_URL`]: databaseUrl(database),
      RABBITMQ_URL: vhost.url,
      ...overrides,
    });
    running.push(process);
    return process;
  }

  afterAll(async () => {
    await Promise.all(running.map((service) => service.stop()));
    await Promise.all(databases.map(dropDatabase));
    await vhost.remove();
  });

  it.each(SERVICES)(
    '%s creates its database, starts and reports both dependencies up',
    async (name) => {
      const service = await launch(name);
      service.env[`${name.toUpperCase()}_HTTP_PORT`] = String(service.port);
      await service.start();

      const { status, body } = await health(service);
      expect(status).toBe(200);
      expect(body.status).toBe('ok');
      await service.stop();
    },
  );

  it('answers /health/live and /health/ready, and says nothing of where its dependencies are', async () => {
    const service = await launch('inventory');
    service.env.INVENTORY_HTTP_PORT = String(service.port);
    await service.start();
    const database = new URL(service.env.INVENTORY_DATABASE_URL).pathname.slice(1);
    for (const path of ['/health', '/health/ready', '/health/live']) {
      const { status, body } = await health(service, path);
      expect(status).toBe(200);
      expect(body.status).toBe('ok');
      expectNothingOfWhere(body, database);
    }
    await service.stop();
  });

  describe('when a dependency goes away and comes back', () => {
    let postgres: TcpProxy;
    let rabbitmq: TcpProxy;
    let order: ServiceProcess;

    beforeAll(async () => {
      postgres = await new TcpProxy('127.0.0.1', 5432).start();
      rabbitmq = await new TcpProxy('127.0.0.1', 5672).start();
      const database = uniqueDatabaseName('order');
      databases.push(database);
      const port = await freePort();
      const brokerThroughProxy = new URL(vhost.url);
      brokerThroughProxy.port = String(rabbitmq.port);
      order = new ServiceProcess('order', port, {
        ORDER_HTTP_PORT: String(port),
        ORDER_DATABASE_URL: databaseUrl(database, `postgres://postgres@127.0.0.1:${postgres.port}`),
        RABBITMQ_URL: brokerThroughProxy.toString(),
      });
      running.push(order);
      await order.start();
    });

    afterAll(async () => {
      await postgres.stop();
      await rabbitmq.stop();
    });

    it('answers 503 naming the database while PostgreSQL is down, and recovers on its own', async () => {
      await postgres.cut();
      const down = await healthReaches(order, 503);
      expect(down.error.database).toMatchObject({ status: 'down' });
      expect(down.error.database.message).toContain('PostgreSQL unreachable');
      expect(down.error.broker).toBeUndefined();
      expectNothingOfWhere(down, new URL(order.env.ORDER_DATABASE_URL).pathname.slice(1));
      // Alive all the same: an orchestrator must not restart it for a dependency's outage.
      expect((await health(order, '/health/live')).status).toBe(200);
      expect((await health(order, '/health/ready')).status).toBe(503);

      await postgres.restore();
      await healthReaches(order, 200);
    });

    it('answers 503 naming the broker while RabbitMQ is down, and reconnects on its own', async () => {
      await rabbitmq.cut();
      const down = await healthReaches(order, 503);
      expect(down.error.broker).toMatchObject({ status: 'down' });
      expect(down.error.database).toBeUndefined();
      expectNothingOfWhere(down, new URL(order.env.ORDER_DATABASE_URL).pathname.slice(1));
      expect((await health(order, '/health/live')).status).toBe(200);

      await rabbitmq.restore();
      await healthReaches(order, 200);
    });
  });

  it('never rate-limits its probes, while what else a client sends without a token is', async () => {
    const service = await launch('inventory', { RATE_LIMIT_ANONYMOUS_REQUESTS: '2' });
    service.env.INVENTORY_HTTP_PORT = String(service.port);
    await service.start();
    for (let probe = 0; probe < 5; probe++) {
      expect((await health(service, '/health/live')).status).toBe(200);
      expect((await health(service, '/health/ready')).status).toBe(200);
    }
    const catalogue = [];
    for (let read = 0; read < 3; read++) {
      catalogue.push((await fetch(`http://127.0.0.1:${service.port}/products`)).status);
    }
    expect(catalogue).toEqual([200, 200, 429]);
    await service.stop();
  });

  it('refuses to start in production with the development JWT_SECRET', async () => {
    const service = await launch('order', { NODE_ENV: 'production' });
    service.spawn();

    expect(await service.exited()).toBe(1);
    expect(service.output).toContain('JWT_SECRET must be set when NODE_ENV=production');
    expect(service.output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses to start, naming the address and how to start it, when PostgreSQL is unreachable', async () => {
    const closedPort = await freePort();
    const service = await launch('inventory', {
      INVENTORY_DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/ordering_inventory`,
    });
    service.spawn();

    expect(await service.exited()).toBe(1);
    expect(service.output).toContain(`PostgreSQL is not reachable at 127.0.0.1:${closedPort}`);
    expect(service.output).toContain('pg_ctlcluster');
    expect(service.output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses to start, naming every node it tried, when no RabbitMQ node is reachable', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const service = await launch('inventory', {
      RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${first},amqp://guest:guest@127.0.0.1:${second}`,
    });
    service.spawn();

    expect(await service.exited()).toBe(1);
    expect(service.output).toContain(
      `RabbitMQ is not reachable at 127.0.0.1:${first} (amqp://guest:***@127.0.0.1:${first})`,
    );
    expect(service.output).toContain(`nor at 127.0.0.1:${second}`);
    expect(service.output).toContain('rabbitmq-server -detached');
    expect(service.output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses to start, naming each malformed variable, when configuration is wrong', async () => {
    const service = await launch('notification', {
      NOTIFICATION_HTTP_PORT: 'eighty',
      RABBITMQ_URL: 'http://not-a-broker',
    });
    service.spawn();

    expect(await service.exited()).toBe(1);
    expect(service.output).toContain('NOTIFICATION_HTTP_PORT must be a port number');
    expect(service.output).toContain('RABBITMQ_URL must be a URL of the form amqp://');
  });
});
