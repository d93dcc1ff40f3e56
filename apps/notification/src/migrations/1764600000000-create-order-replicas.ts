import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the notification service keeps of each order from its `order.placed` (event-carried state
 * transfer): enough to write every later notification without asking the order service.
 */
export class CreateOrderReplicas1764600000000 implements MigrationInterface {
  name = 'CreateOrderReplicas1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE order_replicas (
        order_id uuid PRIMARY KEY,
        customer_id text NOT NULL,
        items jsonb NOT NULL,
        total bigint NOT NULL,
        currency text NOT NULL,
        placed_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE order_replicas');
  }
}
