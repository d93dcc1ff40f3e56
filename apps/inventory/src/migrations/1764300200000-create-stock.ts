import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStock1764300200000 implements MigrationInterface {
  name = 'CreateStock1764300200000';

  async up(runner: QueryRunner): Promise<void> {
    // The checks make "stock never goes below zero" true whatever the code does.
    await runner.query(`
      CREATE TABLE products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        price bigint NOT NULL CHECK (price >= 0),
        currency text NOT NULL,
        available integer NOT NULL CHECK (available >= 0),
        reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        version integer NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE reservations (
        order_id uuid PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('RESERVED', 'REFUSED', 'RELEASED', 'VOIDED')),
        lines jsonb NOT NULL DEFAULT '[]',
        short_lines jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE reservations');
    await runner.query('DROP TABLE products');
  }
}
