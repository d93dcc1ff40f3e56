import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Stored responses of requests sent with an `Idempotency-Key`. */
export class CreateIdempotencyKeys1764300050000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1764300050000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE idempotency_keys (
        caller_id text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        state text NOT NULL CHECK (state IN ('in-flight', 'done')),
        locked_until timestamptz NOT NULL,
        response_status integer,
        response_headers jsonb,
        response_body jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (caller_id, key)
      )`);
    await runner.query('CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE idempotency_keys');
  }
}
