import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotifications1764300400000 implements MigrationInterface {
  name = 'CreateNotifications1764300400000';

  async up(runner: QueryRunner): Promise<void> {
    // One notification per event: the event id is unique, however often it is delivered.
    await runner.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        order_id uuid NOT NULL,
        customer_id text NOT NULL,
        kind text NOT NULL,
        channel text NOT NULL,
        recipient text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    await runner.query(
      'CREATE INDEX notifications_by_order ON notifications (order_id, created_at)',
    );
    await runner.query(
      `CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'PENDING'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE notifications');
  }
}
