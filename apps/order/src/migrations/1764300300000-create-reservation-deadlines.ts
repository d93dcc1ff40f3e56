import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateReservationDeadlines1764300300000 implements MigrationInterface {
  name = 'CreateReservationDeadlines1764300300000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE reservation_deadlines (
        order_id uuid PRIMARY KEY,
        due_at timestamptz NOT NULL
      )`);
    await runner.query('CREATE INDEX reservation_deadlines_due ON reservation_deadlines (due_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE reservation_deadlines');
  }
}

/**
 * A deadline that fails to fire is tried again later, with backoff, instead of being retried at
 * once on every check (and, fired in due order, holding back every deadline due after it).
 */
export class RetryFailingDeadlines1764500100000 implements MigrationInterface {
  name = 'RetryFailingDeadlines1764500100000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE reservation_deadlines
        ADD COLUMN attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN last_error text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      'ALTER TABLE reservation_deadlines DROP COLUMN attempts, DROP COLUMN last_error',
    );
  }
}
