import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The event log, its stream heads and snapshots. Include it in a service's migration list. */
export class CreateEventStore1764300000000 implements MigrationInterface {
  name = 'CreateEventStore1764300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE event_streams (
        stream_id text PRIMARY KEY,
        version integer NOT NULL CHECK (version > 0),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await runner.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        stream_position integer NOT NULL CHECK (stream_position > 0),
        type text NOT NULL,
        schema_version integer NOT NULL CHECK (schema_version > 0),
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT events_stream_position_unique UNIQUE (stream_id, stream_position)
      )`);
    await runner.query('CREATE INDEX events_log_order ON events (transaction_id, global_position)');
    // The log is the source of truth: rewriting history is refused by the database itself.
    await runner.query(`
      CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP;
      END $$`);
    await runner.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()`);
    await runner.query(`
      CREATE TABLE snapshots (
        stream_id text PRIMARY KEY,
        version integer NOT NULL,
        shape_version integer NOT NULL,
        state jsonb NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE snapshots');
    await runner.query('DROP TABLE events');
    await runner.query('DROP FUNCTION events_are_append_only');
    await runner.query('DROP TABLE event_streams');
  }
}
