import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrderReadModels1764300100000 implements MigrationInterface {
  name = 'CreateOrderReadModels1764300100000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE order_summaries (
        order_id uuid PRIMARY KEY,
        customer_id text NOT NULL,
        status text NOT NULL,
        items jsonb NOT NULL,
        total bigint NOT NULL,
        currency text NOT NULL,
        reason text,
        short_lines jsonb,
        version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // Newest first, cursor-paged: per customer, and across customers for admins.
    await runner.query(`
      CREATE INDEX order_summaries_by_customer
      ON order_summaries (customer_id, created_at DESC, order_id DESC)`);
    await runner.query(`
      CREATE INDEX order_summaries_by_time ON order_summaries (created_at DESC, order_id DESC)`);

    // The replica of the inventory's catalogue that orders are priced from.
    await runner.query(`
      CREATE TABLE catalogue_products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        price bigint NOT NULL CHECK (price >= 0),
        currency text NOT NULL,
        available integer NOT NULL,
        source_version integer NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE catalogue_products');
    await runner.query('DROP TABLE order_summaries');
  }
}
