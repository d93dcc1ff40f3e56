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
