import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestVhost,
  databaseUrl,
  freePort,
  POSTGRES_URL,
  ServiceProcess,
  UNLIMITED_RATES,
} from '@ordering/testing';
import pg from 'pg';

const SCRIPT = fileURLToPath(new URL('../docker/postgres/service-roles.sh', import.meta.url));
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
