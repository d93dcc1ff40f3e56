import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where each notification belongs in its order's trace: the context of the message that recorded
 * it, so that its delivery, which comes later and outside any message, joins that trace.
 */
export class AddNotificationTraceparent1764700000000 implements MigrationInterface {
  name = 'AddNotificationTraceparent1764700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE notifications ADD COLUMN traceparent text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE notifications DROP COLUMN traceparent');
  }
}
