import type { Sql } from '@ordering/platform';
import { ConcurrencyError } from './errors.js';
import type { AppendOptions, EventStore } from './event-store.js';
import type { NewEvent, RecordedEvent } from './events.js';
import { readSnapshot, saveSnapshot, snapshotIsDue, type SnapshotPolicy } from './snapshots.js';

/** An aggregate as two pure functions and a starting state. */
export interface Decider<Command, Event extends NewEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState: State;
}

export interface AggregateOptions {
  /** State must survive a JSON round trip to be snapshotted. */
  snapshots?: SnapshotPolicy;
}

export interface HandleOptions extends AggregateOptions, AppendOptions {
  /** The version the caller last saw (an `If-Match`); a mismatch is a ConcurrencyError. */
  expectedVersion?: number;
  /**
   * Without an expected version, a command that lost a race is decided again on the new state
   * this many times before the ConcurrencyError is let through.
   */
  retries?: number;
  /**
   * The stream is almost certainly new (an id made for this command): decide on the initial
   * state without reading it first. Should it exist after all, the append conflicts and the
   * command is decided again on the stream as stored, as after any lost race.
   */
  expectNew?: boolean;
}

/** A command, or how to make one from the current state (undefined: nothing to do). */
export type CommandOf<Command, State> = Command | ((state: State) => Command | undefined);

export interface Handled<State> {
  state: State;
  version: number;
  /** Empty when the command changed nothing (an idempotent repeat). */
  events: readonly RecordedEvent[];
}

/** The stream's current state: its latest snapshot (if any) plus the events after it. */
export async function aggregateStream<Event extends NewEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  options: AggregateOptions & { sql?: Sql } = {},
): Promise<{ state: State; version: number }> {
  const sql = options.sql ?? store.sql;
  const snapshot = options.snapshots
    ? await readSnapshot<State>(sql, streamId, options.snapshots)
    : undefined;
  const events = await store.readStream(
    streamId,
    { fromVersion: (snapshot?.version ?? 0) + 1 },
    sql,
  );
  let state = snapshot?.state ?? decider.initialState;
  for (const event of events) state = decider.evolve(state, event as unknown as Event);
  return { state, version: events.at(-1)?.streamPosition ?? snapshot?.version ?? 0 };
}

/**
 * Load, decide, append with the expected version: the whole of a command handler's work on an
 * event-sourced aggregate. A snapshot is written in the same transaction when one is due.
 */
export async function handleCommand<Command, Event extends NewEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: CommandOf<Command, State>,
  options: HandleOptions = {},
): Promise<Handled<State>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const unread = options.expectNew === true && attempt === 0;
      return await decideAndAppend(store, streamId, decider, command, options, unread);
    } catch (error) {
      const retry =
        error instanceof ConcurrencyError &&
        options.expectedVersion === undefined &&
        attempt < (options.retries ?? 3);
      if (!retry) throw error;
    }
  }
}

async function decideAndAppend<Command, Event extends NewEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: CommandOf<Command, State>,
  options: HandleOptions,
  unread: boolean,
): Promise<Handled<State>> {
  const { state, version } = unread
    ? { state: decider.initialState, version: 0 }
    : await aggregateStream(store, streamId, decider, { ...options, sql: options.tx });
  if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
    throw new ConcurrencyError(streamId, options.expectedVersion, version);
  }
  const decidedCommand =
    typeof command === 'function'
      ? (command as (state: State) => Command | undefined)(state)
      : command;
  if (decidedCommand === undefined) return { state, version, events: [] };
  const decided = decider.decide(decidedCommand, state);
  if (decided.length === 0) return { state, version, events: [] };

  const newState = decided.reduce(decider.evolve, state);
  const nextVersion = version + decided.length;
  const { snapshots } = options;
  const result = await store.appendToStream(streamId, version, decided, {
    metadata: options.metadata,
    tx: options.tx,
    inTransaction: async (tx, recorded) => {
      if (snapshots && snapshotIsDue(snapshots, version, nextVersion)) {
        await saveSnapshot(tx, streamId, snapshots, { version: nextVersion, state: newState });
      }
      await options.inTransaction?.(tx, recorded);
    },
  });
  return { state: newState, version: result.nextExpectedVersion, events: result.events };
}
