import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { databaseUrl, dropDatabase, uniqueDatabaseName } from '@ordering/testing';
import pg from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrate } from './migrate.js';
import { poolSettings } from './postgres-options.js';

/** Slow on purpose, so that instances started together are all inside it at once without a lock. */
class CreateWidgets1700000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

class AddWidgetName1700000000002 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE widgets ADD COLUMN name text');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE widgets DROP COLUMN name');
  }
}

describe('migrate: instances of a service starting together on one database', () => {
  const name = uniqueDatabaseName('migrate');
  const instances: DataSource[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    for (let i = 0; i < 3; i++) {
      const url = databaseUrl(name);
      instances.push(
        await new DataSource({
          type: 'postgres',
          url,
          migrations: [CreateWidgets1700000000001, AddWidgetName1700000000002],
          extra: poolSettings(url, `migrate test ${i}`, 3),
        }).initialize(),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.destroy()));
    await dropDatabase(name);
  });

  it('applies each migration once, and every instance starts', async () => {
    const outcomes = await Promise.allSettled(instances.map(migrate));
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    const applied = await instances[0].query('SELECT name FROM migrations ORDER BY id');
    expect(applied).toEqual([
      { name: 'CreateWidgets1700000000001' },
      { name: 'AddWidgetName1700000000002' },
    ]);
    const columns = await instances[0].query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'widgets' ORDER BY 1",
    );
    expect(columns).toEqual([{ column_name: 'id' }, { column_name: 'name' }]);
  });
});
