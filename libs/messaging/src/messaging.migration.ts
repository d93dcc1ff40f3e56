import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The transactional outbox and the consumer inbox. Include it in a service's migration list. */
export class CreateOutboxAndInbox1764300060000 implements MigrationInterface {
  name = 'CreateOutboxAndInbox1764300060000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id uuid NOT NULL UNIQUE,
        exchange text NOT NULL,
        routing_key text NOT NULL,
        aggregate_id text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        sent_at timestamptz
      )`);
    await runner.query('CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL');
    await runner.query(
      'CREATE INDEX outbox_unsent_by_aggregate ON outbox (aggregate_id, id) WHERE sent_at IS NULL',
    );
    await runner.query('CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL');
    // Wakes the relay as soon as a transaction with new messages commits.
    await runner.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox', '');
        RETURN NULL;
      END $$`);
    await runner.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);

    await runner.query(`
      CREATE TABLE inbox (
        consumer text NOT NULL,
        message_id uuid NOT NULL,
        message_type text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
    await runner.query('CREATE INDEX inbox_received ON inbox (received_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE inbox');
    await runner.query('DROP TABLE outbox');
    await runner.query('DROP FUNCTION outbox_notify');
  }
}

/**
 * Drops the outbox's NOTIFY trigger. PostgreSQL holds a database-wide lock on its notification
 * queue from a notifying transaction's pre-commit to the end of its commit, fsync included, so a
 * NOTIFY inside every writing transaction made their commits queue up one by one (pgbench: about
 * half the transactions/s). The relay is now woken after the commit instead: directly when it
 * runs in the committing process, by a NOTIFY sent outside the transaction otherwise.
 */
export class DropOutboxNotifyTrigger1764400000000 implements MigrationInterface {
  name = 'DropOutboxNotifyTrigger1764400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER outbox_notify ON outbox');
    await runner.query('DROP FUNCTION outbox_notify');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox', '');
        RETURN NULL;
      END $$`);
    await runner.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);
  }
}

/**
 * Fewer indexes for the relay to maintain: marking a row sent rewrites it, and every index on
 * the table takes a new entry for it.
 * - An aggregate's messages are held back behind an earlier one waiting out a retry. Looking for
 *   those among all unsent rows scanned the backlog for every batch; only rows that failed at
 *   least once can be waiting, and they are few, so they get a small index of their own instead.
 * - The clean-up of sent rows finds them by id (ids grow with time) instead of by `sent_at`.
 */
export class SlimOutboxIndexes1764400010000 implements MigrationInterface {
  name = 'SlimOutboxIndexes1764400010000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE INDEX outbox_retrying ON outbox (aggregate_id, id) WHERE sent_at IS NULL AND attempts > 0',
    );
    await runner.query('DROP INDEX outbox_unsent_by_aggregate');
    await runner.query('DROP INDEX outbox_sent');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL');
    await runner.query(
      'CREATE INDEX outbox_unsent_by_aggregate ON outbox (aggregate_id, id) WHERE sent_at IS NULL',
    );
    await runner.query('DROP INDEX outbox_retrying');
  }
}
