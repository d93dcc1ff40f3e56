import type { Database, Sql, Transaction } from '@ordering/platform';
import { ConcurrencyError } from './errors.js';
import type { EventTypeRegistry } from './event-type-registry.js';
import type { EventMetadata, NewEvent, RecordedEvent } from './events.js';

/**
 * A read model kept in step with the log: it is given every appended event of the types it
 * handles inside the append's own transaction, so it can never disagree with the log.
 */
export interface InlineProjection {
  readonly name: string;
  readonly eventTypes: readonly string[];
  /** Applies events (of several streams when rebuilding), in log order. */
  project(events: readonly RecordedEvent[], tx: Transaction): Promise<void>;
  /**
   * The tables it builds, emptied before a rebuild. A projection without them (one that sends
   * messages, say) has effects that must not be repeated, and cannot be rebuilt.
   */
  readonly tables?: readonly string[];
}

/** Where a reader of the whole log has got to: log order is (transaction id, global position). */
export interface LogPosition {
  transactionId: bigint;
  globalPosition: bigint;
}

export const START_OF_LOG: LogPosition = { transactionId: 0n, globalPosition: 0n };

export interface AppendOptions {
  metadata?: EventMetadata;
  /**
   * Append inside this transaction (a message consumer's, with its inbox row) instead of a new
   * one. Its first write must be this append, so transaction ids keep each stream in order.
   */
  tx?: Transaction;
  /** More work for the same transaction, after the events and the inline projections. */
  inTransaction?: (tx: Transaction, recorded: readonly RecordedEvent[]) => Promise<void>;
}

export interface AppendResult {
  nextExpectedVersion: number;
  events: RecordedEvent[];
}

export interface ReadStreamOptions {
  fromVersion?: number;
  toVersion?: number;
  /**
   * Only the events recorded at or before this instant: the stream as it was then. The database
   * keeps microseconds and a Date has milliseconds, so the whole millisecond counts.
   */
  toTime?: Date;
}

interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_position: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

const EVENT_COLUMNS = `global_position, transaction_id, stream_id, stream_position, type,
  schema_version, data, metadata, recorded_at`;

/**
 * An append-only event log in PostgreSQL: streams with optimistic concurrency, a whole-log
 * reader that never skips late commits, and inline projections in the append transaction.
 */
export class EventStore {
  private readonly projectionsByType = new Map<string, InlineProjection[]>();

  constructor(
    private readonly database: Database,
    readonly registry: EventTypeRegistry,
    readonly projections: readonly InlineProjection[] = [],
  ) {
    for (const projection of projections) {
      for (const type of projection.eventTypes) {
        this.projectionsByType.set(type, [...(this.projectionsByType.get(type) ?? []), projection]);
      }
    }
  }

  /**
   * Appends `events` to the stream if, and only if, it is at `expectedVersion` (0: the stream
   * must not exist). Of concurrent appends at the same version exactly one succeeds; the others
   * get a ConcurrencyError and nothing of theirs is written.
   *
   * The stream row is the transaction's first write, so its transaction id is taken only after
   * every earlier append to the stream has committed: transaction ids then order each stream's
   * events, which is what lets readAll order the log by them.
   */
  async appendToStream(
    streamId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const nextVersion = expectedVersion + events.length;
    const metadata = options.metadata ?? {};

    const append = async (tx: Transaction): Promise<AppendResult> => {
      const claimed =
        expectedVersion === 0
          ? await tx.query(
              `INSERT INTO event_streams (stream_id, version) VALUES ($1, $2)
               ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id`,
              [streamId, nextVersion],
            )
          : await tx.query(
              `UPDATE event_streams SET version = $3, updated_at = clock_timestamp()
               WHERE stream_id = $1 AND version = $2 RETURNING stream_id`,
              [streamId, expectedVersion, nextVersion],
            );
      if (claimed.length === 0) {
        throw new ConcurrencyError(
          streamId,
          expectedVersion,
          await this.currentVersion(streamId, tx),
        );
      }

      const inserted = await tx.query<EventRow>(
        `INSERT INTO events (stream_id, stream_position, type, schema_version, data, metadata)
         SELECT $1, e.position, e.type, e.schema_version, e.data, $6::jsonb
         FROM unnest($2::int[], $3::text[], $4::int[], $5::jsonb[])
           AS e(position, type, schema_version, data)
         RETURNING ${EVENT_COLUMNS}`,
        [
          streamId,
          events.map((_, index) => expectedVersion + index + 1),
          events.map((event) => event.type),
          events.map((event) => this.registry.currentVersion(event.type)),
          events.map((event) => JSON.stringify(event.data)),
          JSON.stringify(metadata),
        ],
      );
      const recorded = inserted
        .sort((a, b) => a.stream_position - b.stream_position)
        .map((row, index) => toRecordedEvent(row, events[index].data));

      await this.project(recorded, tx);
      await options.inTransaction?.(tx, recorded);
      return { nextExpectedVersion: nextVersion, events: recorded };
    };
    return options.tx
      ? append(options.tx)
      : this.database.transaction(append, { label: `append to ${streamId}` });
  }

  /**
   * Locks the heads of the streams a transaction is about to append to, all in one statement and
   * in one order, as its first write: a transaction appending to several streams (a consumer's
   * batch) then keeps the property that appendToStream's own first write gives one stream (its
   * transaction id comes after every earlier append to each of them), and two such transactions
   * cannot deadlock. Streams that do not exist yet are not locked (their insert claims them).
   */
  async lockStreams(tx: Transaction, streamIds: readonly string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await tx.query(
      `SELECT stream_id FROM event_streams WHERE stream_id = ANY($1::text[])
       ORDER BY stream_id FOR UPDATE`,
      [[...new Set(streamIds)]],
    );
  }

  /** The stream's events in order, upcast to today's shapes; empty if the stream does not exist. */
  async readStream(
    streamId: string,
    options: ReadStreamOptions = {},
    sql: Sql = this.database,
  ): Promise<RecordedEvent[]> {
    const rows = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_position >= $2 AND stream_position <= $3
         AND ($4::timestamptz IS NULL OR recorded_at < $4::timestamptz + interval '1 ms')
       ORDER BY stream_position`,
      [
        streamId,
        options.fromVersion ?? 1,
        options.toVersion ?? 2_147_483_647,
        options.toTime?.toISOString() ?? null,
      ],
    );
    return rows.map((row) => this.upcast(row));
  }

  /**
   * The next events of the whole log after `from`, in log order, for subscribers and rebuilds.
   *
   * Global positions come from a sequence and transactions commit out of order, so "everything
   * after the last position seen" would skip an event whose transaction commits late. The log is
   * ordered by (transaction id, position) instead, and only transactions older than the oldest
   * one still running are read: none of those can still add events before the returned position.
   * A long-running transaction anywhere on the server holds readers back until it ends.
   */
  async readAll(
    from: LogPosition = START_OF_LOG,
    limit = 1000,
  ): Promise<{ events: RecordedEvent[]; position: LogPosition }> {
    const rows = await this.database.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [from.transactionId.toString(), from.globalPosition.toString(), limit],
    );
    const events = rows.map((row) => this.upcast(row));
    const last = events.at(-1);
    return {
      events,
      position: last
        ? { transactionId: last.transactionId, globalPosition: last.globalPosition }
        : from,
    };
  }

  /**
   * Rebuilds a projection from the whole log in one transaction. Its tables are locked before
   * anything is read: a REPEATABLE READ transaction takes its snapshot at its first read, so every
   * append that committed before the lock was granted is in it, and every append still running
   * waits at its first write to those tables and then applies its events on top of the rebuilt
   * rows. Nothing is missed or applied twice.
   */
  async rebuild(projection: InlineProjection, batchSize = 5000): Promise<number> {
    const tables = projection.tables;
    if (!tables?.length) throw new Error(`The ${projection.name} projection cannot be rebuilt`);
    const list = tables.map((table) => `"${table.replaceAll('"', '""')}"`).join(', ');
    return this.database.transaction(
      async (tx) => {
        await tx.query(`LOCK TABLE ${list} IN ACCESS EXCLUSIVE MODE`);
        await tx.query(`TRUNCATE ${list}`);
        let from = START_OF_LOG;
        let count = 0;
        for (;;) {
          // This transaction's snapshot is the cut: every event in it, in log order.
          const rows = await tx.query<EventRow>(
            `SELECT ${EVENT_COLUMNS} FROM events
             WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
               AND type = ANY($3::text[])
             ORDER BY transaction_id, global_position
             LIMIT $4`,
            [
              from.transactionId.toString(),
              from.globalPosition.toString(),
              projection.eventTypes,
              batchSize,
            ],
          );
          if (rows.length === 0) return count;
          const events = rows.map((row) => this.upcast(row));
          await projection.project(events, tx);
          count += events.length;
          const last = events.at(-1)!;
          from = { transactionId: last.transactionId, globalPosition: last.globalPosition };
        }
      },
      { isolation: 'REPEATABLE READ', label: `rebuild ${projection.name}` },
    );
  }

  async currentVersion(streamId: string, sql: Sql = this.database): Promise<number> {
    const rows = await sql.query<{ version: number }>(
      'SELECT version FROM event_streams WHERE stream_id = $1',
      [streamId],
    );
    return rows[0]?.version ?? 0;
  }

  /** Runs inside a transaction the caller owns (the append's, or a rebuild's). */
  async project(events: readonly RecordedEvent[], tx: Transaction): Promise<void> {
    const touched = new Set<InlineProjection>();
    for (const event of events) {
      for (const projection of this.projectionsByType.get(event.type) ?? [])
        touched.add(projection);
    }
    for (const projection of touched) {
      const relevant = events.filter((event) => projection.eventTypes.includes(event.type));
      await projection.project(relevant, tx);
    }
  }

  /** Where reads outside any transaction go. */
  get sql(): Sql {
    return this.database;
  }

  private upcast(row: EventRow): RecordedEvent {
    return toRecordedEvent(row, this.registry.upcast(row.type, row.schema_version, row.data));
  }
}

function toRecordedEvent(row: EventRow, data: unknown): RecordedEvent {
  return {
    type: row.type,
    data,
    metadata: row.metadata,
    streamId: row.stream_id,
    streamPosition: row.stream_position,
    globalPosition: BigInt(row.global_position),
    transactionId: BigInt(row.transaction_id),
    storedSchemaVersion: row.schema_version,
    recordedAt: row.recorded_at,
  };
}
