import type { Sql, Transaction } from '@ordering/platform';
import { ConcurrencyError } from './errors.js';
import type { AppendOptions, EventStore, StreamAppend } from './event-store.js';
import type { EventMetadata, NewEvent, RecordedEvent } from './events.js';
import { saveSnapshot, snapshotIsDue, type SnapshotPolicy } from './snapshots.js';

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

export interface HandleOptions<Event extends NewEvent = NewEvent>
  extends AggregateOptions, AppendOptions<Event> {
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

export interface Handled<State, Event extends NewEvent = NewEvent> {
  state: State;
  version: number;
  /** Empty when the command changed nothing (an idempotent repeat). */
  events: readonly RecordedEvent<Event>[];
}

/** Several streams' current states, each from its latest snapshot plus the events after it. */
export async function aggregateStreams<Event extends NewEvent, State>(
  store: EventStore<Event, NoInfer<State>>,
  streamIds: readonly string[],
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  options: AggregateOptions & { sql?: Sql } = {},
): Promise<Map<string, { state: State; version: number }>> {
  const loaded = await store.loadStreams<State>(
    streamIds,
    options.snapshots?.shapeVersion,
    options.sql,
  );
  const states = new Map<string, { state: State; version: number }>();
  for (const [streamId, { snapshot, events }] of loaded) {
    let state = snapshot?.state ?? decider.initialState;
    for (const event of events) state = decider.evolve(state, event);
    states.set(streamId, {
      state,
      version: events.at(-1)?.streamPosition ?? snapshot?.version ?? 0,
    });
  }
  return states;
}

/** The stream's current state: its latest snapshot (if any) plus the events after it. */
export async function aggregateStream<Event extends NewEvent, State>(
  store: EventStore<Event, NoInfer<State>>,
  streamId: string,
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  options: AggregateOptions & { sql?: Sql } = {},
): Promise<{ state: State; version: number }> {
  return (await aggregateStreams(store, [streamId], decider, options)).get(streamId)!;
}

/** One command for one stream, as handleCommands takes them. */
export interface StreamCommand<Command, State> {
  streamId: string;
  command: CommandOf<Command, State>;
  metadata?: EventMetadata;
  /** The version the caller last saw (an `If-Match`); a mismatch is a ConcurrencyError. */
  expectedVersion?: number;
}

export interface HandleManyOptions extends AggregateOptions {
  tx: Transaction;
  /** Every stream is almost certainly new: decide on the initial state without reading. */
  expectNew?: boolean;
}

/**
 * Load, decide, append for many commands in the caller's transaction, in a fixed number of
 * statements whatever their number: one read of every stream they touch, the decisions in
 * memory in the order given (a stream's second command is decided on the state its first one
 * left), one append of everything (see EventStore.appendToStreams), and the snapshots that fall
 * due. A ConcurrencyError leaves the transaction to be rolled back.
 */
export async function handleCommands<Command, Event extends NewEvent, State>(
  store: EventStore<Event, NoInfer<State>>,
  decider: Decider<Command, Event, State>,
  commands: readonly StreamCommand<Command, State>[],
  options: HandleManyOptions,
): Promise<Handled<State, Event>[]> {
  const { tx, snapshots } = options;
  const streamIds = [...new Set(commands.map((c) => c.streamId))];
  const loaded = options.expectNew
    ? new Map(streamIds.map((id) => [id, { state: decider.initialState, version: 0 }]))
    : await aggregateStreams(store, streamIds, decider, { snapshots, sql: tx });
  const current = new Map(loaded);

  const appends: StreamAppend<Event, State>[] = [];
  const outcomes = commands.map(({ streamId, command, metadata, expectedVersion }) => {
    const { state, version } = current.get(streamId)!;
    // A command made from the state may refuse the caller (who may not see the stream) before a
    // stale expected version would tell them it exists.
    const decidedCommand =
      typeof command === 'function'
        ? (command as (state: State) => Command | undefined)(state)
        : command;
    if (expectedVersion !== undefined && expectedVersion !== version) {
      throw new ConcurrencyError(streamId, expectedVersion, version);
    }
    const decided = decidedCommand === undefined ? [] : decider.decide(decidedCommand, state);
    if (decided.length === 0) return { state, version, append: undefined as number | undefined };
    const next = {
      state: decided.reduce(decider.evolve, state),
      version: version + decided.length,
    };
    current.set(streamId, next);
    appends.push({
      streamId,
      expectedVersion: version,
      events: decided,
      metadata,
      stateAfter: next.state,
    });
    return { ...next, append: appends.length - 1 };
  });
  const recorded = appends.length > 0 ? await store.appendToStreams(tx, appends) : [];

  if (snapshots) {
    for (const [streamId, { state, version }] of current) {
      if (snapshotIsDue(snapshots, loaded.get(streamId)!.version, version)) {
        await saveSnapshot(tx, streamId, snapshots, { version, state });
      }
    }
  }
  return outcomes.map(({ state, version, append }) => ({
    state,
    version,
    events: append === undefined ? [] : recorded[append],
  }));
}

/**
 * Load, decide, append with the expected version: the whole of a command handler's work on an
 * event-sourced aggregate, in the given transaction or a new one. A snapshot is written in the
 * same transaction when one is due.
 */
export async function handleCommand<Command, Event extends NewEvent, State>(
  store: EventStore<Event, NoInfer<State>>,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: CommandOf<Command, State>,
  options: HandleOptions<Event> = {},
): Promise<Handled<State, Event>> {
  const handle = async (tx: Transaction) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const [handled] = await handleCommands(
          store,
          decider,
          [
            {
              streamId,
              command,
              metadata: options.metadata,
              expectedVersion: options.expectedVersion,
            },
          ],
          {
            tx,
            snapshots: options.snapshots,
            expectNew: options.expectNew === true && attempt === 0,
          },
        );
        if (handled.events.length > 0) await options.inTransaction?.(tx, handled.events);
        return handled;
      } catch (error) {
        // A lone stream's lost race wrote nothing: decide again on the stream as it now stands.
        const retry =
          error instanceof ConcurrencyError &&
          options.expectedVersion === undefined &&
          attempt < (options.retries ?? 3);
        if (!retry) throw error;
      }
    }
  };
  return options.tx ? handle(options.tx) : store.transaction(handle, `append to ${streamId}`);
}

/** How one aggregate lives in the store: its decider, the stream an id names, its snapshots. */
export interface AggregateBinding<Command, Event extends NewEvent, State> {
  decider: Decider<Command, Event, State>;
  streamIdOf: (id: string) => string;
  snapshots?: SnapshotPolicy;
}

/** A command for the aggregate named by `id`, as AggregateCommands.handleMany takes them. */
export interface AggregateCommand<Command, State> extends Omit<
  StreamCommand<Command, State>,
  'streamId'
> {
  id: string;
}

/**
 * One aggregate's load, decide, append, bound once to its decider, stream ids and snapshots, so
 * that a use case only says which aggregate and what command: the handler of an aggregate.
 */
export class AggregateCommands<Command, Event extends NewEvent, State> {
  constructor(
    readonly store: EventStore<Event, State>,
    private readonly binding: AggregateBinding<Command, Event, State>,
  ) {}

  /** One command (see handleCommand), in `options.tx` or a transaction of its own. */
  handle(
    id: string,
    command: CommandOf<Command, State>,
    options: Omit<HandleOptions<Event>, 'snapshots'> = {},
  ): Promise<Handled<State, Event>> {
    const { decider, streamIdOf, snapshots } = this.binding;
    return handleCommand(this.store, streamIdOf(id), decider, command, { ...options, snapshots });
  }

  /** Many commands in the caller's transaction, in a fixed number of statements (handleCommands). */
  handleMany(
    commands: readonly AggregateCommand<Command, State>[],
    options: Omit<HandleManyOptions, 'snapshots'>,
  ): Promise<Handled<State, Event>[]> {
    const { decider, streamIdOf, snapshots } = this.binding;
    return handleCommands(
      this.store,
      decider,
      commands.map(({ id, ...command }) => ({ ...command, streamId: streamIdOf(id) })),
      { ...options, snapshots },
    );
  }
}
