import { randomBytes } from 'node:crypto';
import { Database, migrate, poolSettings } from '@ordering/platform';
import pg from 'pg';
import { DataSource } from 'typeorm';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A unique database name, so suites running side by side never share state. */
export function uniqueDatabaseName(prefix: string): string {
  return `test_${prefix}_${randomBytes(4).toString('hex')}`;
}

export function databaseUrl(name: string, server = POSTGRES_URL): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** TypeORM's, for the tests' own reads and fixtures. */
  dataSource: DataSource;
  /** The code under test's way to the database, on the same pool. */
  database: Database;
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/**
 * A fresh database of its own for one test suite, migrated with `migrations`, with the pool
 * settings the services use. Call `drop()` in `afterAll`.
 */
export async function createTestDatabase(
  prefix: string,
  migrations: Function[],
  entities: Function[] = [],
): Promise<TestDatabase> {
  const name = uniqueDatabaseName(prefix);
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations,
    entities,
    extra: poolSettings(url, `test ${prefix}`, 20),
  });
  await dataSource.initialize();
  await migrate(dataSource);
  return {
    dataSource,
    database: new Database(dataSource),
    name,
    url,
    drop: async () => {
      await dataSource.destroy();
      await dropDatabase(name);
    },
  };
}
