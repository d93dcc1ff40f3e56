import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Transaction } from '@ordering/platform';
import { ConnectionFaults, createTestDatabase, eventually } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { aggregateStream, handleCommand, type Decider } from './deciding.js';
import { ConcurrencyError, UnknownEventTypeError } from './errors.js';
import { EventStore, START_OF_LOG, type InlineProjection } from './event-store.js';
import { CreateEventStore1764300000000 } from './event-store.migration.js';
import { EventTypeRegistry } from './event-type-registry.js';
import type { RecordedEvent } from './events.js';

type Added = { type: 'Added'; data: { amount: number } };
type Renamed = { type: 'Renamed'; data: { name: string } };
type CounterEvent = Added | Renamed;
type Counter = { total: number; name: string };

const registry = new EventTypeRegistry({
  Added: { version: 1 },
  // Version 1 stored `{ title }`; version 2 calls it `name`.
  Renamed: { version: 2, upcasters: { 1: (data: { title: string }) => ({ name: data.title }) } },
});

const counter: Decider<{ add: number } | { rename: string }, CounterEvent, Counter> = {
  initialState: { total: 0, name: '' },
  decide: (command) =>
    'add' in command
      ? command.add === 0
        ? []
        : [{ type: 'Added', data: { amount: command.add } }]
      : [{ type: 'Renamed', data: { name: command.rename } }],
  evolve: (state, event) =>
    event.type === 'Added'
      ? { ...state, total: state.total + event.data.amount }
      : { ...state, name: event.data.name },
};

const added = (amount: number): Added => ({ type: 'Added', data: { amount } });
const newStream = () => `counter-${randomUUID()}`;

/** Keeps per-stream totals in a table, the way a service's read model would. */
class TotalsProjection implements InlineProjection {
  readonly name = 'totals';
  readonly eventTypes = ['Added'];
  readonly tables = ['totals'];
  failNext = false;

  async project(events: readonly RecordedEvent[], tx: Transaction) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('projection failed');
    }
    const sums = new Map<string, number>();
    for (const event of events) {
      sums.set(
        event.streamId,
        (sums.get(event.streamId) ?? 0) + (event.data as Added['data']).amount,
      );
    }
    await tx.query(
      `INSERT INTO totals (stream_id, total) SELECT * FROM unnest($1::text[], $2::int[])
       ON CONFLICT (stream_id) DO UPDATE SET total = totals.total + excluded.total`,
      [[...sums.keys()], [...sums.values()]],
    );
  }
}

describe('EventStore on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let store: EventStore;
  const totals = new TotalsProjection();

  beforeAll(async () => {
    database = await createTestDatabase('event_store', [CreateEventStore1764300000000]);
    dataSource = database.dataSource;
    await dataSource.query('CREATE TABLE totals (stream_id text PRIMARY KEY, total int NOT NULL)');
    store = new EventStore(database.database, registry, [totals]);
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe('appendToStream and readStream', () => {
    it('stores events with their versions, types, schema versions and metadata', async () => {
      const stream = newStream();
      const metadata = { correlationId: 'c-1', causationId: 'm-1', userId: 'u-1' };
      const result = await store.appendToStream(stream, 0, [added(1), added(2)], { metadata });
      await store.appendToStream(stream, 2, [{ type: 'Renamed', data: { name: 'n' } }]);

      expect(result.nextExpectedVersion).toBe(2);
      const events = await store.readStream(stream);
      expect(events.map((e) => [e.streamPosition, e.type, e.data, e.storedSchemaVersion])).toEqual([
        [1, 'Added', { amount: 1 }, 1],
        [2, 'Added', { amount: 2 }, 1],
        [3, 'Renamed', { name: 'n' }, 2],
      ]);
      expect(events[0].metadata).toEqual(metadata);
      expect(events[0].globalPosition).toBeLessThan(events[2].globalPosition);
    });

    it('refuses a wrong expected version with a ConcurrencyError and writes nothing', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [added(1), added(1)]);

      await expect(store.appendToStream(stream, 0, [added(5)])).rejects.toEqual(
        new ConcurrencyError(stream, 0, 2),
      );
      await expect(store.appendToStream(stream, 1, [added(5)])).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      // A version ahead of the stream would leave a gap: refused too.
      await expect(store.appendToStream(stream, 5, [added(5)])).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      expect((await store.readStream(stream)).map((e) => e.streamPosition)).toEqual([1, 2]);
    });

    it('lets exactly one of many concurrent appends at the same version win', async () => {
      const stream = newStream();
      for (const expected of [0, 1]) {
        const attempts = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.appendToStream(stream, expected, [added(i)])),
        );
        const won = attempts.filter((a) => a.status === 'fulfilled');
        const lost = attempts.filter((a) => a.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost.map((a) => (a as PromiseRejectedResult).reason)).toEqual(
          Array(19).fill(expect.any(ConcurrencyError)),
        );
      }
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('keeps versions gapless when many writers race and retry', async () => {
      const stream = newStream();
      const writer = async () => {
        for (let written = 0; written < 5;) {
          try {
            await handleCommand(store, stream, counter, { add: 1 });
            written++;
          } catch (error) {
            if (!(error instanceof ConcurrencyError)) throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, writer));

      const events = await store.readStream(stream);
      expect(events.map((e) => e.streamPosition)).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      expect((await aggregateStream(store, stream, counter)).state.total).toBe(40);
    });

    it('reads a stream as it was at a version or at a time', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [added(1), added(10)]);
      const [second] = await store.readStream(stream, { fromVersion: 2 });
      await store.appendToStream(stream, 2, [added(100)]);

      expect((await store.readStream(stream, { toVersion: 2 })).map((e) => e.data)).toEqual([
        { amount: 1 },
        { amount: 10 },
      ]);
      expect(await store.readStream(stream, { toTime: second.recordedAt })).toHaveLength(2);
      expect(await store.readStream(stream, { toTime: new Date(0) })).toEqual([]);
      expect(await store.readStream(newStream())).toEqual([]);
    });

    it('refuses event types the registry does not know, writing nothing', async () => {
      const stream = newStream();
      await expect(
        store.appendToStream(stream, 0, [{ type: 'Unheard', data: {} }]),
      ).rejects.toBeInstanceOf(UnknownEventTypeError);
      expect(await store.currentVersion(stream)).toBe(0);
    });

    it('refuses to rewrite history at the database level', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [added(1)]);
      await expect(
        dataSource.query(`UPDATE events SET data = '{}' WHERE stream_id = $1`, [stream]),
      ).rejects.toThrow(/append-only/);
      await expect(
        dataSource.query('DELETE FROM events WHERE stream_id = $1', [stream]),
      ).rejects.toThrow(/append-only/);
    });
  });

  describe('readAll', () => {
    async function readToEnd(from = START_OF_LOG) {
      const seen: RecordedEvent[] = [];
      let position = from;
      for (;;) {
        const page = await store.readAll(position, 3);
        if (page.events.length === 0) return { seen, position };
        seen.push(...page.events);
        position = page.position;
      }
    }

    it('never skips an event whose transaction commits after a later one', async () => {
      const { position: start } = await readToEnd();
      const slow = newStream();
      const fast = newStream();

      let commitSlow!: () => void;
      const slowHeldOpen = new Promise<void>((resolve) => (commitSlow = resolve));
      let slowWritten!: () => void;
      const slowHasWritten = new Promise<void>((resolve) => (slowWritten = resolve));
      const slowAppend = store.appendToStream(slow, 0, [added(1)], {
        inTransaction: async () => {
          slowWritten();
          await slowHeldOpen;
        },
      });
      await slowHasWritten;
      await store.appendToStream(fast, 0, [added(2)]);

      // The fast event took a later global position but committed first.
      const whileOpen = await readToEnd(start);
      expect(whileOpen.seen.map((e) => e.streamId)).not.toContain(fast);
      expect(whileOpen.seen.map((e) => e.streamId)).not.toContain(slow);

      commitSlow();
      await slowAppend;
      const after = await readToEnd(whileOpen.position);
      expect(after.seen.map((e) => e.streamId)).toEqual([slow, fast]);
      expect(after.seen[0].globalPosition).toBeLessThan(after.seen[1].globalPosition);
    });

    it('keeps a stream in log order when a transaction that locked it first appends to it after other writes', async () => {
      const { position: start } = await readToEnd();
      const [elsewhere, shared] = [newStream(), newStream()];
      await store.appendToStream(elsewhere, 0, [added(1)]);
      await store.appendToStream(shared, 0, [added(1)]);

      // A consumer's batch: its stream locks first, a write to another stream, then (later) its
      // append to the shared stream, decided on the stream as it then stands.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let wroteElsewhere!: () => void;
      const hasWritten = new Promise<void>((resolve) => (wroteElsewhere = resolve));
      const batch = database.database.transaction(async (tx) => {
        await store.lockStreams(tx, [elsewhere, shared]);
        await store.appendToStreams(tx, [
          { streamId: elsewhere, expectedVersion: 1, events: [added(2)] },
        ]);
        wroteElsewhere();
        await held;
        const { version } = await aggregateStream(store, shared, counter, { sql: tx });
        await store.appendToStreams(tx, [
          { streamId: shared, expectedVersion: version, events: [added(2)] },
        ]);
      });
      await hasWritten;

      // Another writer of the shared stream meanwhile: it has to wait for the batch.
      let otherDone = false;
      const other = handleCommand(store, shared, counter, { add: 3 }).then(() => {
        otherDone = true;
      });
      await eventually(async () => {
        const [{ waiting }] = (await dataSource.query(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )) as { waiting: number }[];
        expect(otherDone || waiting > 0).toBe(true);
      });
      release();
      await batch;
      await other;

      // Transaction ids order the log: the other writer's came after the batch's lock.
      const { seen } = await readToEnd(start);
      expect(seen.filter((e) => e.streamId === shared).map((e) => e.streamPosition)).toEqual([
        1, 2, 3,
      ]);
    });

    it('pages through the whole log in each stream’s order, from any position', async () => {
      const { position: start } = await readToEnd();
      const streams = [newStream(), newStream()];
      await Promise.all(
        streams.map(async (stream) => {
          for (let i = 0; i < 4; i++) await store.appendToStream(stream, i, [added(i)]);
        }),
      );
      const { seen } = await readToEnd(start);
      for (const stream of streams) {
        expect(seen.filter((e) => e.streamId === stream).map((e) => e.streamPosition)).toEqual([
          1, 2, 3, 4,
        ]);
      }
    });
  });

  describe('upcasting', () => {
    it('loads events stored at an old schema version in today’s shape', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [added(1)]);
      // An event written by last year's code, before `title` became `name`.
      await dataSource.query(
        `INSERT INTO events (stream_id, stream_position, type, schema_version, data)
         VALUES ($1, 2, 'Renamed', 1, '{"title":"old"}')`,
        [stream],
      );
      await dataSource.query('UPDATE event_streams SET version = 2 WHERE stream_id = $1', [stream]);

      const [, renamed] = await store.readStream(stream);
      expect(renamed).toMatchObject({ data: { name: 'old' }, storedSchemaVersion: 1 });
      expect((await aggregateStream(store, stream, counter)).state.name).toBe('old');
    });

    it('insists on an upcaster for every older version', () => {
      expect(
        () => new EventTypeRegistry({ X: { version: 3, upcasters: { 1: (d: never) => d } } }),
      ).toThrow('Event type "X" has no upcaster from version 2');
    });
  });

  describe('snapshots', () => {
    const snapshots = { every: 3, shapeVersion: 1 };

    it('snapshots every N events and loads from the latest snapshot plus the events after it', async () => {
      const stream = newStream();
      for (let i = 0; i < 10; i++)
        await handleCommand(store, stream, counter, { add: 1 }, { snapshots });

      const [snapshot] = await dataSource.query(
        'SELECT version, shape_version, state FROM snapshots WHERE stream_id = $1',
        [stream],
      );
      expect(snapshot).toEqual({ version: 9, shape_version: 1, state: { total: 9, name: '' } });

      // Doctor the snapshot: a load that used it shows the doctored total plus event 10.
      await dataSource.query(
        `UPDATE snapshots SET state = '{"total":1000,"name":""}' WHERE stream_id = $1`,
        [stream],
      );
      expect(await aggregateStream(store, stream, counter, { snapshots })).toEqual({
        state: { total: 1001, name: '' },
        version: 10,
      });
    });

    it('discards a snapshot of an older shape and replays the stream instead', async () => {
      const stream = newStream();
      for (let i = 0; i < 4; i++)
        await handleCommand(store, stream, counter, { add: 2 }, { snapshots });
      await dataSource.query(
        `UPDATE snapshots SET state = '{"sum":1000}', shape_version = 0 WHERE stream_id = $1`,
        [stream],
      );

      expect(await aggregateStream(store, stream, counter, { snapshots })).toEqual({
        state: { total: 8, name: '' },
        version: 4,
      });
      // The next due snapshot replaces it with one of the current shape.
      await handleCommand(store, stream, counter, { add: 2 }, { snapshots });
      await handleCommand(store, stream, counter, { add: 2 }, { snapshots });
      const [snapshot] = await dataSource.query(
        'SELECT version, shape_version FROM snapshots WHERE stream_id = $1',
        [stream],
      );
      expect(snapshot).toEqual({ version: 6, shape_version: 1 });
    });
  });

  describe('handleCommand', () => {
    it('appends nothing when the decision is to do nothing', async () => {
      const stream = newStream();
      await handleCommand(store, stream, counter, { add: 1 });
      const result = await handleCommand(store, stream, counter, { add: 0 });
      expect(result).toMatchObject({ version: 1, events: [] });
    });

    it('decides a stream expected to be new without reading it, and on the stored state when it exists', async () => {
      const stream = newStream();
      const created = await handleCommand(store, stream, counter, { add: 2 }, { expectNew: true });
      expect(created).toMatchObject({ version: 1, state: { total: 2 } });

      const existing = await handleCommand(store, stream, counter, { add: 3 }, { expectNew: true });
      expect(existing).toMatchObject({ version: 2, state: { total: 5 } });
      expect((await store.readStream(stream)).map((e) => e.data)).toEqual([
        { amount: 2 },
        { amount: 3 },
      ]);
    });

    it('makes the command from the state it appends to, and appends nothing when there is none', async () => {
      const stream = newStream();
      await handleCommand(store, stream, counter, { add: 4 });
      const doubled = await handleCommand(store, stream, counter, (state) => ({
        add: state.total,
      }));
      expect(doubled).toMatchObject({ version: 2, state: { total: 8 } });
      const nothing = await handleCommand(store, stream, counter, () => undefined);
      expect(nothing).toMatchObject({ version: 2, events: [] });
    });

    it('refuses a stale expected version (an If-Match) before deciding', async () => {
      const stream = newStream();
      await handleCommand(store, stream, counter, { add: 1 });
      await handleCommand(store, stream, counter, { add: 1 });
      await expect(
        handleCommand(store, stream, counter, { add: 1 }, { expectedVersion: 1 }),
      ).rejects.toEqual(new ConcurrencyError(stream, 1, 2));
    });
    it('lets a command made from the state refuse before a stale expected version is told', async () => {
      const stream = newStream();
      await handleCommand(store, stream, counter, { add: 1 });
      const refused = new Error('not yours');
      await expect(
        handleCommand(
          store,
          stream,
          counter,
          () => {
            throw refused;
          },
          { expectedVersion: 7 },
        ),
      ).rejects.toBe(refused);
    });
  });

  describe('a connection lost at any statement of a unit of work', () => {
    let faults: ConnectionFaults;
    beforeAll(async () => {
      faults = await new ConnectionFaults(database.database).start();
    });
    afterAll(() => faults.stop());

    const stateOf = async (stream: string) => ({
      version: await store.currentVersion(stream),
      events: (await store.readStream(stream)).map((e) => e.data),
      totals: await dataSource.query('SELECT total FROM totals WHERE stream_id = $1', [stream]),
    });

    it('leaves an append all committed or not at all, and its retry commits it once', async () => {
      const label = /^append to counter-/;
      const statements = await faults.statementsOf({ label }, () =>
        store.appendToStream(newStream(), 0, [added(1), added(2)]),
      );
      expect(statements[0]).toBe('BEGIN');
      expect(statements.at(-1)).toBe('COMMIT');

      for (const [index, text] of statements.entries()) {
        const stream = newStream();
        const broken = faults.breakBefore({ label, index });
        await expect(store.appendToStream(stream, 0, [added(1), added(2)])).rejects.toMatchObject({
          name: 'ConnectionLostError',
        });
        expect(await broken).toBe(text);
        expect(await stateOf(stream)).toEqual({ version: 0, events: [], totals: [] });

        await store.appendToStream(stream, 0, [added(1), added(2)]);
        expect(await stateOf(stream)).toEqual({
          version: 2,
          events: [{ amount: 1 }, { amount: 2 }],
          totals: [{ total: 3 }],
        });
      }
    });

    it('leaves a rebuild all done or not at all, and its retry rebuilds the same rows', async () => {
      await store.appendToStream(newStream(), 0, [added(5), added(6)]);
      const rows = () => dataSource.query('SELECT * FROM totals ORDER BY stream_id');
      const before = await rows();
      const label = 'rebuild totals';
      const statements = await faults.statementsOf({ label }, () => store.rebuild(totals));
      expect(statements.slice(1, 3)).toEqual([
        'LOCK TABLE "totals" IN ACCESS EXCLUSIVE MODE',
        'TRUNCATE "totals"',
      ]);

      for (const [index, text] of statements.entries()) {
        const broken = faults.breakBefore({ label, index });
        await expect(store.rebuild(totals)).rejects.toMatchObject({ name: 'ConnectionLostError' });
        expect(await broken).toBe(text);
        expect(await rows()).toEqual(before);
        await store.rebuild(totals);
        expect(await rows()).toEqual(before);
      }
    });
  });

  describe('inline projections', () => {
    it('refuses a projection added once an append has run, which would have missed its events', async () => {
      const late = new EventStore(database.database, registry);
      late.addProjections([new TotalsProjection()]);
      await late.appendToStream(newStream(), 0, [added(1)]);
      const later = { name: 'later', eventTypes: ['Added'], project: async () => undefined };
      expect(() => late.addProjections([later])).toThrow('would miss its events: later');
    });

    it('update the read model in the append transaction: a failed projection stores no event', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [added(5)]);
      totals.failNext = true;
      await expect(store.appendToStream(stream, 1, [added(7)])).rejects.toThrow(
        'projection failed',
      );

      expect(await store.readStream(stream)).toHaveLength(1);
      expect(
        await dataSource.query('SELECT total FROM totals WHERE stream_id = $1', [stream]),
      ).toEqual([{ total: 5 }]);
    });

    it('a rebuild misses no append that was committing while it waited for its lock', async () => {
      const stream = newStream();
      // An append that has written to the projection's table and holds its transaction open.
      let commitAppend!: () => void;
      const appendHeldOpen = new Promise<void>((resolve) => (commitAppend = resolve));
      let appendWritten!: () => void;
      const appendHasWritten = new Promise<void>((resolve) => (appendWritten = resolve));
      const append = store.appendToStream(stream, 0, [added(11)], {
        inTransaction: async () => {
          appendWritten();
          await appendHeldOpen;
        },
      });
      await appendHasWritten;

      const rebuilt = store.rebuild(totals);
      // The rebuild is waiting for the append's lock on the table, then the append commits.
      await new Promise((resolve) => setTimeout(resolve, 200));
      commitAppend();
      await append;
      await rebuilt;

      expect(
        await dataSource.query('SELECT total FROM totals WHERE stream_id = $1', [stream]),
      ).toEqual([{ total: 11 }]);
    });

    it('are given the state a command left each stream in, and none for an append without a decision', async () => {
      const seen: ReadonlyMap<string, unknown>[] = [];
      // The totals projection too, so that the log and the totals table stay in step for the
      // rebuild test.
      const states = new EventStore(database.database, registry, [
        totals,
        {
          name: 'states',
          eventTypes: ['Added', 'Renamed'],
          project: async (_events, _tx, decided) => void seen.push(new Map(decided)),
        },
      ]);
      const stream = newStream();
      await handleCommand(states, stream, counter, { add: 2 });
      await handleCommand(states, stream, counter, { rename: 'two' });
      await states.appendToStream(stream, 2, [added(1)]);

      expect(seen).toEqual([
        new Map([[stream, { total: 2, name: '' }]]),
        new Map([[stream, { total: 2, name: 'two' }]]),
        new Map(),
      ]);
    });

    describe('written with the append', () => {
      /** Rows that follow from each event alone, as an outbox's do: one per Added event. */
      const ledger: InlineProjection = {
        name: 'ledger',
        eventTypes: ['Added'],
        writeWithAppend: (events) => (param) =>
          `INSERT INTO ledger (stream_id, stream_position, amount, global_position)
           SELECT l.stream_id, l.stream_position, l.amount, a.global_position
           FROM unnest(${param(events.map((e) => e.streamId))}::text[],
             ${param(events.map((e) => e.streamPosition))}::int[],
             ${param(events.map((e) => (e.data as Added['data']).amount))}::int[])
             AS l(stream_id, stream_position, amount)
           JOIN appended a USING (stream_id, stream_position)`,
      };
      let withLedger: EventStore;
      const ledgerOf = (stream: string) =>
        dataSource.query(
          `SELECT l.stream_position AS position, l.amount, l.global_position = e.global_position AS same
           FROM ledger l JOIN events e USING (stream_id, stream_position)
           WHERE l.stream_id = $1 ORDER BY l.stream_position`,
          [stream],
        );

      beforeAll(async () => {
        await dataSource.query(
          `CREATE TABLE ledger (stream_id text, stream_position int, amount int,
             global_position bigint, PRIMARY KEY (stream_id, stream_position))`,
        );
        // The totals projection too, so that the log and the totals table stay in step for the
        // rebuild test.
        withLedger = new EventStore(database.database, registry, [totals, ledger]);
      });

      it('are written by the append’s own statement, with what it recorded', async () => {
        const stream = newStream();
        const statements: string[] = [];
        const stopObserving = database.database.observeStatements(({ label, text }) => {
          if (label === `append to ${stream}`) statements.push(text);
        });
        try {
          await withLedger.appendToStream(stream, 0, [
            added(2),
            { type: 'Renamed', data: { name: 'x' } },
            added(3),
          ]);
        } finally {
          stopObserving();
        }
        // The totals projection runs a statement of its own; the ledger's rows need none.
        expect(statements).toEqual([
          'BEGIN',
          expect.stringContaining('INSERT INTO ledger'),
          expect.stringContaining('INSERT INTO totals'),
          'COMMIT',
        ]);
        expect(await ledgerOf(stream)).toEqual([
          { position: 1, amount: 2, same: true },
          { position: 3, amount: 3, same: true },
        ]);
      });

      it('write nothing for an append that lost its race, which is then decided again', async () => {
        const stream = newStream();
        await withLedger.appendToStream(stream, 0, [added(1)]);
        await withLedger.transaction(async (tx) => {
          await expect(
            withLedger.appendToStreams(tx, [
              { streamId: stream, expectedVersion: 0, events: [added(9)] },
            ]),
          ).rejects.toEqual(new ConcurrencyError(stream, 0, 1));
          await withLedger.appendToStreams(tx, [
            { streamId: stream, expectedVersion: 1, events: [added(5)] },
          ]);
        }, 'decide again');
        expect(await ledgerOf(stream)).toEqual([
          { position: 1, amount: 1, same: true },
          { position: 2, amount: 5, same: true },
        ]);
      });

      it('are refused a rebuild, and a projection needs one way to be written', () => {
        const both = { ...ledger, name: 'both', project: async () => undefined };
        const neither = { name: 'neither', eventTypes: ['Added'] };
        const rebuildable = { ...ledger, name: 'rebuildable', tables: ['ledger'] };
        for (const projection of [both, neither]) {
          expect(() => new EventStore(database.database, registry, [projection])).toThrow(
            `The ${projection.name} projection needs project or writeWithAppend`,
          );
        }
        expect(() => new EventStore(database.database, registry, [rebuildable])).toThrow(
          'The rebuildable projection is written with appends: no rebuild',
        );
      });
    });

    it('can be rebuilt from the log to the same rows', async () => {
      const stream = newStream();
      await store.appendToStream(stream, 0, [added(3), added(4)]);
      const before = await dataSource.query('SELECT * FROM totals ORDER BY stream_id');
      await dataSource.query('UPDATE totals SET total = -1');

      const projected = await store.rebuild(totals, 2);

      expect(await dataSource.query('SELECT * FROM totals ORDER BY stream_id')).toEqual(before);
      const [{ count }] = await dataSource.query(
        `SELECT count(*)::int AS count FROM events WHERE type = 'Added'`,
      );
      expect(projected).toBe(count);
    });
  });
});
