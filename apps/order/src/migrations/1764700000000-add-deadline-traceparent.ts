import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where each deadline belongs in its order's trace (the placement's context), so that the
 * deadline firing, which comes later and outside any request or message, joins that trace.
 */
export class AddDeadlineTraceparent1764700000000 implements MigrationInterface {
  name = 'AddDeadlineTraceparent1764700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE reservation_deadlines ADD COLUMN traceparent text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE reservation_deadlines DROP COLUMN traceparent');
  }
}
