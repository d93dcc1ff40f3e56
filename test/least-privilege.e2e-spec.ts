import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestVhost,
  databaseUrl,
  eventually,
  freePort,
  OrderingSystem,
  POSTGRES_URL,
  ServiceProcess,
  type ServiceName,
  UNLIMITED_RATES,
} from '@ordering/testing';
import amqplib, { type ConfirmChannel } from 'amqplib';
import pg from 'pg';

const SCRIPT = fileURLToPath(new URL('../docker/postgres/service-roles.sh', import.meta.url));
const BROKER_SETUP = fileURLToPath(new URL('../scripts/broker-setup.mjs', import.meta.url));
const SERVICES = ['order', 'inventory', 'notification'] as const;

describe('least privilege in PostgreSQL: a role per service (docker/postgres/service-roles.sh)', () => {
  const prefix = `lp_${randomBytes(3).toString('hex')}_`;
  const server = new URL(POSTGRES_URL);
  const urlOf = (service: string, database = `${prefix}${service}`) => {
    const url = new URL(databaseUrl(database));
    url.username = `${prefix}${service}`;
    url.password = `${service}-password`;
    return url.toString();
  };
  /** What `sql` does when run as `service`'s role on `database`: its rows, or its error's code. */
  async function asRole(service: string, database: string, sql: string) {
    const client = new pg.Client({ connectionString: urlOf(service, database) });
    try {
      await client.connect();
      return { rows: (await client.query(sql)).rows };
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  beforeAll(async () => {
    await promisify(execFile)('sh', [SCRIPT], {
      env: {
        PATH: process.env.PATH,
        PGHOST: server.hostname,
        PGPORT: server.port || '5432',
        PGUSER: decodeURIComponent(server.username) || 'postgres',
        SERVICE_ROLE_PREFIX: prefix,
        ORDER_DB_PASSWORD: 'order-password',
        INVENTORY_DB_PASSWORD: 'inventory-password',
        NOTIFICATION_DB_PASSWORD: 'notification-password',
      },
    });
  });

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
    await admin.connect();
    for (const service of SERVICES) {
      await admin.query(`DROP DATABASE IF EXISTS "${prefix}${service}" WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS "${prefix}${service}"`);
    }
    await admin.end();
  });

  it('runs a service on its own role: it migrates its database and serves', async () => {
    const vhost = await createTestVhost('least_privilege');
    const inventory = new ServiceProcess('inventory', await freePort(), {
      INVENTORY_DATABASE_URL: urlOf('inventory'),
      RABBITMQ_URL: vhost.url,
      ...UNLIMITED_RATES,
    });
    inventory.env.INVENTORY_HTTP_PORT = String(inventory.port);
    try {
      await inventory.start();
      const products = await fetch(`${inventory.url}/products`);
      expect(products.status).toBe(200);
      expect(
        await asRole('inventory', `${prefix}inventory`, 'SELECT count(*) FROM products'),
      ).toMatchObject({ rows: [{ count: expect.any(String) }] });
    } finally {
      await inventory.stop();
      await vhost.remove();
    }
  });

  it.each([
    ['order', 'inventory'],
    ['notification', 'order'],
    ['inventory', 'notification'],
  ])('refuses the %s service a connection to the %s database', async (service, other) => {
    const answer = await asRole(service, `${prefix}${other}`, 'SELECT 1');
    expect(answer).toMatchObject({
      code: '42501',
      message: expect.stringMatching(/permission denied for database/),
    });
  });

  it('lets no service role create databases or roles', async () => {
    for (const sql of [`CREATE DATABASE ${prefix}extra`, `CREATE ROLE ${prefix}extra`]) {
      expect(await asRole('order', `${prefix}order`, sql)).toMatchObject({ code: '42501' });
    }
  });
});

describe('least privilege in RabbitMQ: a user per service (scripts/broker-setup.mjs)', () => {
  const system = new OrderingSystem({}, { ownBrokerUsers: true });
  const sku = `LP-${randomBytes(3).toString('hex').toUpperCase()}`;

  beforeAll(() => system.start(), 90_000);
  afterAll(() => system.stop());

  /**
   * What `attempt` does on a fresh channel of `service`'s own connection: 'done', or why the
   * broker refused (the channel's error says; a publish itself hears only "channel closed").
   */
  async function asBrokerUser(
    service: ServiceName,
    attempt: (channel: ConfirmChannel) => Promise<unknown>,
  ): Promise<string> {
    const connection = await amqplib.connect(system.brokerUrlOf(service));
    try {
      const channel = await connection.createConfirmChannel();
      const refused = new Promise<string>((resolve) =>
        channel.on('error', (error: Error) => resolve(error.message)),
      );
      return await Promise.race([
        attempt(channel).then(
          () => 'done',
          (error: Error) => refused.then(() => error.message),
        ),
        refused,
      ]);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
  const publish = (channel: ConfirmChannel, exchange: string, routingKey: string) =>
    new Promise<void>((resolve, reject) =>
      channel.publish(exchange, routingKey, Buffer.from('{}'), {}, (error) =>
        error ? reject(error) : resolve(),
      ),
    );

  it('runs the saga with each service on its own user, dead letters included', async () => {
    await system.stock(sku, 5);
    const orderId = await system.placeOrder('least-privileged', [{ sku, quantity: 2 }]);
    await system.orderReaches(orderId, ['CONFIRMED']);
    await eventually(async () =>
      expect(await system.notifications(orderId)).toEqual([
        expect.objectContaining({ kind: 'ORDER_CONFIRMED', status: 'SENT' }),
      ]),
    );

    // A consumer moves a poison message to its dead-letter queue with its own user's rights.
    const admin = await amqplib.connect(system.rabbitmqUrl);
    try {
      const channel = await admin.createConfirmChannel();
      await publish(channel, 'order.events', 'order.placed');
      await eventually(async () => {
        for (const queue of ['inventory.order.events.dlq', 'notification.order.events.dlq']) {
          expect([queue, (await channel.checkQueue(queue)).messageCount]).toEqual([queue, 1]);
        }
      });
    } finally {
      await admin.close();
    }
  });

  it.each([
    [
      'inventory',
      'consume order’s queue',
      "queue 'order.inventory.events'",
      (c: ConfirmChannel) => c.consume('order.inventory.events', () => {}),
    ],
    [
      'order',
      'take from inventory’s queue',
      "queue 'inventory.order.events'",
      (c: ConfirmChannel) => c.get('inventory.order.events'),
    ],
    [
      'notification',
      'publish on order’s exchange',
      "exchange 'order.events'",
      (c: ConfirmChannel) => publish(c, 'order.events', 'order.confirmed'),
    ],
    [
      'inventory',
      'reach order’s queue through the default exchange',
      "exchange 'amq.default'",
      (c: ConfirmChannel) => publish(c, '', 'order.inventory.events'),
    ],
    [
      'order',
      'declare a queue not its own',
      "queue 'billing.order.events'",
      (c: ConfirmChannel) => c.assertQueue('billing.order.events', { durable: true }),
    ],
    [
      'notification',
      'bind its queue to an exchange it does not consume',
      "exchange 'inventory.events'",
      (c: ConfirmChannel) => c.bindQueue('notification.order.events', 'inventory.events', '#'),
    ],
  ] as const)('refuses the %s service’s user to %s', async (service, _what, resource, attempt) => {
    expect(await asBrokerUser(service, attempt)).toContain(
      `ACCESS_REFUSED - access to ${resource}`,
    );
  });

  it('lets a service’s user consume its own queue', async () => {
    const consumed = await asBrokerUser('inventory', async (channel) => {
      const { consumerTag } = await channel.consume('inventory.order.events', () => {});
      await channel.cancel(consumerTag);
    });
    expect(consumed).toBe('done');
  });
});

describe('npm run broker-setup on a broker an earlier version set up', () => {
  it('names the queue whose arguments changed and what to do, instead of half a topology', async () => {
    const vhost = await createTestVhost('upgrade');
    try {
      const admin = await amqplib.connect(vhost.url);
      const channel = await admin.createChannel();
      await channel.deleteQueue('inventory.order.events');
      // As versions before the redelivery exchanges declared it.
      await channel.assertQueue('inventory.order.events', {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': 20,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': 'inventory.order.events.dlq',
        },
      });
      await admin.close();
      const setup = await promisify(execFile)(process.execPath, [BROKER_SETUP], {
        env: { ...process.env, RABBITMQ_URL: vhost.url },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(setup.code).toBe(1);
      expect(setup.stderr).toContain(
        'queue inventory.order.events was declared with another x-dead-letter-exchange',
      );
    } finally {
      await vhost.remove();
    }
  });
});
