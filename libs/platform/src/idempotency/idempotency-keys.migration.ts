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

/**
 * A stored response is now written in the transaction of the change it reports, so a key is
 * either answered or free: no more in-flight claims with leases. Claims still open are dropped
 * (their requests either committed nothing, or will be answered by the order they placed).
 */
export class IdempotentResponsesWithTheirChange1764500000000 implements MigrationInterface {
  name = 'IdempotentResponsesWithTheirChange1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM idempotency_keys WHERE state <> 'done'`);
    await runner.query(`
      ALTER TABLE idempotency_keys
        DROP COLUMN state,
        DROP COLUMN locked_until,
        ALTER COLUMN response_status SET NOT NULL,
        ALTER COLUMN response_headers SET NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE idempotency_keys
        ALTER COLUMN response_status DROP NOT NULL,
        ALTER COLUMN response_headers DROP NOT NULL,
        ADD COLUMN state text NOT NULL DEFAULT 'done' CHECK (state IN ('in-flight', 'done')),
        ADD COLUMN locked_until timestamptz NOT NULL DEFAULT now()`);
  }
}
