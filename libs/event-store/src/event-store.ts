import type { Database, Sql, Transaction } from '@ordering/platform';
import { ConcurrencyError } from './errors.js';
import type { EventTypeRegistry } from './event-type-registry.js';
import type { EventMetadata, NewEvent, RecordedEvent, StoredPlace } from './events.js';
import type { Snapshot } from './snapshots.js';

/** An event of an append about to be written: what the append's own statement is given. */
export type AppendingEvent<E extends NewEvent = NewEvent> = E &
  Pick<StoredPlace, 'metadata' | 'streamId' | 'streamPosition'>;

/**
 * A data-modifying statement (INSERT, UPDATE or DELETE) run inside the append's own statement,
 * as one of its CTEs: `param` binds a value and returns its placeholder. It may read `appended`,
 * the events the statement inserts (one row each, every column of `events`): a row joined to it
 * is written only if its event is, which is what keeps a stream's lost race from writing it.
 */
export type AppendWrite = (param: (value: unknown) => string) => string;

/**
 * A read model kept in step with the log: it is given every appended event of the types it
 * handles inside the append's own transaction, so it can never disagree with the log. It
 * either runs statements of its own after the append (`project`), or has its rows written by
 * the append's own statement (`writeWithAppend`).
 */
export interface InlineProjection<E extends NewEvent = NewEvent, S = unknown> {
  readonly name: string;
  readonly eventTypes: readonly E['type'][];
  /**
   * The rows that follow from these events alone (of `eventTypes`, in append order), written
   * by the append's own statement at no statement of its own; undefined when there are none.
   * Such a projection is never rebuilt (it has no `tables`).
   */
  readonly writeWithAppend?: (
    events: readonly AppendingEvent<E>[],
    tx: Transaction,
  ) => AppendWrite | undefined;
  /**
   * Applies events (of several streams when rebuilding), in log order: only of `eventTypes`.
   * `decided` holds, by stream id, the state a command handler left each stream in after the
   * whole append (all its events, including those of types this projection does not take; see
   * StreamAppend.stateAfter), so a projection of that state need not read or fold it again; a
   * rebuild, or an append made without a decision, gives none. A property, not a method, so that
   * the state type is checked strictly.
   */
  readonly project?: (
    events: readonly RecordedEvent<E>[],
    tx: Transaction,
    decided?: ReadonlyMap<string, S>,
  ) => Promise<void>;
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

export interface AppendOptions<E extends NewEvent = NewEvent> {
  metadata?: EventMetadata;
  /**
   * Append inside this transaction (a message consumer's, with its inbox row) instead of a new
   * one. Its first write must be this append, so transaction ids keep each stream in order.
   */
  tx?: Transaction;
  /** More work for the same transaction, after the events and the inline projections. */
  inTransaction?: (tx: Transaction, recorded: readonly RecordedEvent<E>[]) => Promise<void>;
}

export interface StreamAppend<E extends NewEvent = NewEvent, S = unknown> {
  streamId: string;
  /** 0: the stream must not exist yet. */
  expectedVersion: number;
  events: readonly E[];
  metadata?: EventMetadata;
  /** The stream's state after these events, when a decider made them: for the projections. */
  stateAfter?: S;
}

/** A stream as loadStreams reads it: its snapshot, if any, and every event after it. */
export interface LoadedStream<State, E extends NewEvent = NewEvent> {
  snapshot?: Snapshot<State>;
  events: RecordedEvent<E>[];
}

export interface AppendResult<E extends NewEvent = NewEvent> {
  nextExpectedVersion: number;
  events: RecordedEvent<E>[];
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

/**
 * Every statement on the log's tables is planned for its values (see QueryOptions): they start
 * empty and grow with every command, and a plan a connection made while they were small is a
 * sequential scan of the whole log or of every stream head (measured: 9 ms for one append's head
 * update at 20,000 streams, 28 ms for one load at 40,000 events) until an autoanalyze replans it.
 * Planning costs 0.01 to 0.2 ms.
 */
const GROWING = { plan: 'per-execution' } as const;

const EVENT_COLUMNS = `global_position, transaction_id, stream_id, stream_position, type,
  schema_version, data, metadata, recorded_at`;

/**
 * An append-only event log in PostgreSQL: streams with optimistic concurrency, a whole-log
 * reader that never skips late commits, and inline projections in the append transaction. Typed
 * by the union `E` of the events it stores: what goes in and what comes out is one of them.
 */
export class EventStore<E extends NewEvent = NewEvent, S = unknown> {
  private readonly projectionsByType = new Map<string, InlineProjection<E, S>[]>();
  private readonly inline: InlineProjection<E, S>[] = [];
  // Once an append has run, a projection added later would have missed its events (an outbox
  // row, a summary) for good: adding one then is refused.
  private appended = false;

  constructor(
    private readonly database: Database,
    readonly registry: EventTypeRegistry<E>,
    projections: readonly InlineProjection<E, S>[] = [],
  ) {
    this.addProjections(projections);
  }

  /**
   * More inline projections, for an application whose slices each bring their own: added once
   * every one of them exists, before the first append (an event appended before would miss them).
   */
  addProjections(projections: readonly InlineProjection<E, S>[]): void {
    if (this.appended && projections.length > 0) {
      throw new Error(
        `Inline projections added after an append would miss its events: ${projections
          .map((projection) => projection.name)
          .join(', ')}`,
      );
    }
    for (const projection of projections) {
      if (this.inline.some((known) => known.name === projection.name)) {
        throw new Error(`Two inline projections are named ${projection.name}`);
      }
      if (!projection.project === !projection.writeWithAppend) {
        throw new Error(`The ${projection.name} projection needs project or writeWithAppend`);
      }
      if (projection.writeWithAppend && projection.tables?.length) {
        throw new Error(`The ${projection.name} projection is written with appends: no rebuild`);
      }
      this.inline.push(projection);
      for (const type of projection.eventTypes) {
        this.projectionsByType.set(type, [...(this.projectionsByType.get(type) ?? []), projection]);
      }
    }
  }

  /** Every inline projection, in the order they run in an append's transaction. */
  get projections(): readonly InlineProjection<E, S>[] {
    return this.inline;
  }

  /**
   * Appends `events` to the stream if, and only if, it is at `expectedVersion` (0: the stream
   * must not exist). Of concurrent appends at the same version exactly one succeeds; the others
   * get a ConcurrencyError and nothing of theirs is written.
   */
  async appendToStream(
    streamId: string,
    expectedVersion: number,
    events: readonly E[],
    options: AppendOptions<E> = {},
  ): Promise<AppendResult<E>> {
    const append = async (tx: Transaction): Promise<AppendResult<E>> => {
      const [recorded] = await this.appendToStreams(tx, [
        { streamId, expectedVersion, events, metadata: options.metadata },
      ]);
      await options.inTransaction?.(tx, recorded);
      return { nextExpectedVersion: expectedVersion + events.length, events: recorded };
    };
    return options.tx
      ? append(options.tx)
      : this.database.transaction(append, { label: `append to ${streamId}` });
  }

  /**
   * Appends to several streams in the caller's transaction, in one statement: it claims every
   * stream head (creating new streams, moving the others from their expected version) and
   * inserts every event, then the inline projections get them all at once. Appends to one stream
   * must follow each other (each at the version the previous one leaves). Returns the recorded
   * events of each append, in order.
   *
   * The stream heads are written by the transaction's first write (this statement, or
   * lockStreams before it), so its transaction id is taken only after every earlier append to
   * each of those streams has committed: transaction ids then order each stream's events, which
   * is what lets readAll order the log by them.
   *
   * If a stream is not at its expected version, a ConcurrencyError names it. Nothing of a lone
   * stream's append is then written (its caller may decide again in the same transaction); with
   * several, the others' events were, and the caller must roll back.
   */
  async appendToStreams(
    tx: Transaction,
    appends: readonly StreamAppend<E, S>[],
  ): Promise<RecordedEvent<E>[][]> {
    this.appended = true;
    const heads = new Map<string, { expected: number; next: number }>();
    const events: { streamId: string; position: number; event: E; metadata: string }[] = [];
    for (const { streamId, expectedVersion, events: appended, metadata } of appends) {
      if (appended.length === 0) throw new Error('An append needs at least one event');
      const head = heads.get(streamId);
      if (head && head.next !== expectedVersion) {
        throw new Error(`Appends to ${streamId} must follow each other`);
      }
      const next = expectedVersion + appended.length;
      heads.set(streamId, { expected: head?.expected ?? expectedVersion, next });
      const stored = JSON.stringify(metadata ?? {});
      appended.forEach((event, index) =>
        events.push({ streamId, position: expectedVersion + index + 1, event, metadata: stored }),
      );
    }

    const values: unknown[] = [
      [...heads.keys()],
      [...heads.values()].map((head) => head.expected),
      [...heads.values()].map((head) => head.next),
      events.map((e) => e.streamId),
      events.map((e) => e.position),
      events.map((e) => e.event.type),
      events.map((e) => this.registry.currentVersion(e.event.type)),
      events.map((e) => JSON.stringify(e.event.data)),
      events.map((e) => e.metadata),
    ];
    const param = (value: unknown) => `$${values.push(value)}`;
    const writes = this.writesWithAppend(appends, tx).map(
      (write, index) => `, w${index} AS (${write(param)})`,
    );
    const rows = await tx.query<EventRow>(
      `WITH heads AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[]) AS h(stream_id, expected, next)
       ), created AS (
         INSERT INTO event_streams (stream_id, version)
         SELECT stream_id, next FROM heads WHERE expected = 0
         ON CONFLICT (stream_id) DO NOTHING RETURNING stream_id
       ), moved AS (
         UPDATE event_streams s SET version = h.next, updated_at = clock_timestamp()
         FROM heads h WHERE h.expected > 0 AND s.stream_id = h.stream_id AND s.version = h.expected
         RETURNING s.stream_id
       ), appended AS (
         INSERT INTO events (stream_id, stream_position, type, schema_version, data, metadata)
         SELECT e.stream_id, e.position, e.type, e.schema_version, e.data, e.metadata
         FROM unnest($4::text[], $5::int[], $6::text[], $7::int[], $8::jsonb[], $9::jsonb[])
           WITH ORDINALITY AS e(stream_id, position, type, schema_version, data, metadata, n)
         WHERE e.stream_id IN (SELECT stream_id FROM created UNION ALL SELECT stream_id FROM moved)
         ORDER BY e.n
         RETURNING ${EVENT_COLUMNS}
       )${writes.join('')}
       SELECT * FROM appended`,
      values,
      GROWING,
    );
    const written = new Map<string, EventRow>(
      rows.map((row) => [`${row.stream_id}:${row.stream_position}`, row]),
    );
    for (const [streamId, { expected }] of heads) {
      if (!written.has(`${streamId}:${expected + 1}`)) {
        throw new ConcurrencyError(streamId, expected, await this.currentVersion(streamId, tx));
      }
    }
    let next = 0;
    const recorded = appends.map((append) =>
      append.events.map((event) => {
        const { streamId, position } = events[next++];
        return toRecordedEvent<E>(written.get(`${streamId}:${position}`)!, event.data);
      }),
    );
    const decided = new Map<string, S>();
    for (const { streamId, stateAfter } of appends) {
      if (stateAfter !== undefined) decided.set(streamId, stateAfter);
      else decided.delete(streamId);
    }
    await this.project(recorded.flat(), tx, decided);
    return recorded;
  }

  /**
   * Several streams as they stand, in one statement: for each, its snapshot of `snapshotShape`
   * (if it has one and a shape is given) and the events after it, upcast, in stream order.
   */
  async loadStreams<State>(
    streamIds: readonly string[],
    snapshotShape: number | undefined,
    sql: Sql = this.database,
  ): Promise<Map<string, LoadedStream<State, E>>> {
    const rows = await sql.query<EventRow & { snapshot: State | null; snapshot_version: number }>(
      `WITH wanted AS (SELECT DISTINCT unnest($1::text[]) AS stream_id),
       snapshot AS (
         SELECT w.stream_id, s.version, s.state
         FROM wanted w JOIN snapshots s ON s.stream_id = w.stream_id AND s.shape_version = $2
       )
       SELECT stream_id, version AS snapshot_version, state AS snapshot, NULL::bigint AS global_position,
         NULL::text AS transaction_id, 0 AS stream_position, NULL::text AS type,
         NULL::int AS schema_version, NULL::jsonb AS data, NULL::jsonb AS metadata,
         NULL::timestamptz AS recorded_at
       FROM snapshot
       UNION ALL
       -- Lateral, so that the snapshot's version bounds the index scan of the stream's events.
       SELECT e.stream_id, NULL, NULL, e.global_position, e.transaction_id::text, e.stream_position,
         e.type, e.schema_version, e.data, e.metadata, e.recorded_at
       FROM wanted w LEFT JOIN snapshot s ON s.stream_id = w.stream_id
       CROSS JOIN LATERAL (
         SELECT * FROM events
         WHERE events.stream_id = w.stream_id AND events.stream_position > coalesce(s.version, 0)
       ) e
       ORDER BY stream_id, stream_position`,
      [streamIds, snapshotShape ?? -1],
      GROWING,
    );
    const loaded = new Map<string, LoadedStream<State, E>>(
      streamIds.map((id) => [id, { events: [] }]),
    );
    for (const row of rows) {
      const stream = loaded.get(row.stream_id)!;
      if (row.type === null)
        stream.snapshot = { version: row.snapshot_version, state: row.snapshot! };
      else stream.events.push(this.upcast(row));
    }
    return loaded;
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
      GROWING,
    );
  }

  /** The stream's events in order, upcast to today's shapes; empty if the stream does not exist. */
  async readStream(
    streamId: string,
    options: ReadStreamOptions = {},
    sql: Sql = this.database,
  ): Promise<RecordedEvent<E>[]> {
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
      GROWING,
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
  ): Promise<{ events: RecordedEvent<E>[]; position: LogPosition }> {
    const rows = await this.database.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id, global_position
       LIMIT $3`,
      [from.transactionId.toString(), from.globalPosition.toString(), limit],
      GROWING,
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
  async rebuild(projection: InlineProjection<E, S>, batchSize = 5000): Promise<number> {
    const { tables, project } = projection;
    if (!tables?.length || !project) {
      throw new Error(`The ${projection.name} projection cannot be rebuilt`);
    }
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
            GROWING,
          );
          if (rows.length === 0) return count;
          const events = rows.map((row) => this.upcast(row));
          await project.call(projection, events, tx);
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
      GROWING,
    );
    return rows[0]?.version ?? 0;
  }

  /** What the projections written with appends add to this append's statement. */
  private writesWithAppend(appends: readonly StreamAppend<E, S>[], tx: Transaction): AppendWrite[] {
    const writes: AppendWrite[] = [];
    for (const projection of this.inline) {
      if (!projection.writeWithAppend) continue;
      const events = appends.flatMap(({ streamId, expectedVersion, events, metadata = {} }) =>
        events.flatMap((event, index) =>
          projection.eventTypes.includes(event.type)
            ? [{ ...event, metadata, streamId, streamPosition: expectedVersion + index + 1 }]
            : [],
        ),
      );
      const write = events.length > 0 ? projection.writeWithAppend(events, tx) : undefined;
      if (write) writes.push(write);
    }
    return writes;
  }

  /** The inline projections of an append's events, in its transaction. */
  private async project(
    events: readonly RecordedEvent<E>[],
    tx: Transaction,
    decided: ReadonlyMap<string, S> = new Map(),
  ): Promise<void> {
    const touched = new Set<InlineProjection<E, S>>();
    for (const event of events) {
      for (const projection of this.projectionsByType.get(event.type) ?? [])
        touched.add(projection);
    }
    for (const projection of touched) {
      const relevant = events.filter((event) => projection.eventTypes.includes(event.type));
      await projection.project?.(relevant, tx, decided);
    }
  }

  /** Runs `work` in a transaction of the store's database. */
  transaction<T>(work: (tx: Transaction) => Promise<T>, label: string): Promise<T> {
    return this.database.transaction(work, { label });
  }

  /** Where reads outside any transaction go. */
  get sql(): Sql {
    return this.database;
  }

  private upcast(row: EventRow): RecordedEvent<E> {
    return toRecordedEvent<E>(row, this.registry.upcast(row.type, row.schema_version, row.data));
  }
}

/**
 * A row as the event it records. The one place a stored event becomes one of the union: its type
 * is a name the registry knows (upcast refuses any other) and its data has been brought up to
 * that type's current shape.
 */
function toRecordedEvent<E extends NewEvent>(row: EventRow, data: unknown): RecordedEvent<E> {
  const recorded: RecordedEvent = {
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
  return recorded as RecordedEvent<E>;
}
