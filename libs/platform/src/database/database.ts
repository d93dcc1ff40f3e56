import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { connectionSettings, GuardedClient } from './connection-settings.js';
import { DependencyUnavailableError, isTransient } from './transient.js';

export interface QueryOptions {
  /**
   * `per-execution`: planned for its values every time (an unnamed statement) instead of once per
   * connection. For the simple lookups by a list of keys (`= ANY($1)`) on tables that start
   * empty and grow fast (inbox, outbox, read models): a plan made once, while such a table was
   * small, can be a sequential scan that costs more with every row until an autoanalyze replans
   * it, whereas planning such a statement costs little. The event store's statements are planned
   * so too, complex as some are (see GROWING there); statements on tables of a steady size (the
   * catalogue, stock) keep their plan.
   */
  plan?: 'per-execution';
}

/** Something SQL runs on: the database (one statement, autocommit), a transaction, a session. */
export interface Sql {
  /**
   * Runs one statement as a named prepared statement: PostgreSQL parses and plans each text once
   * per connection (see QueryOptions for the exception). `text` must be a constant; everything
   * that varies goes in `values`.
   */
  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<Row[]>;
}

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

export interface TransactionOptions {
  /** Names the unit of work in errors, logs and for statement observers. */
  label?: string;
  isolation?: IsolationLevel;
}

/** A statement about to be sent, as statement observers see it. */
export interface Statement {
  /** The transaction's label, the session's name, or `autocommit`. */
  label: string;
  /** Its place in its transaction (0 is BEGIN, the last one COMMIT) or session. */
  index: number;
  text: string;
  /** The server process that will run it (what `pg_terminate_backend` takes). */
  backendPid: number;
}

/**
 * Called before every statement is sent, and awaited. Production code never sets one; tests use
 * it to break a connection at an exact point of a unit of work.
 */
export type StatementObserver = (statement: Statement) => void | Promise<void>;

/**
 * A transaction's (or a session's) connection broke: nothing more can run on it. A transaction
 * that loses its connection before COMMIT has committed nothing; one that loses it during COMMIT
 * may have committed or not, which is why every unit of work is safe to retry.
 */
export class ConnectionLostError extends DependencyUnavailableError {
  override name = 'ConnectionLostError';

  constructor(what: string, cause: unknown) {
    super(`Connection lost in ${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** A statement was sent to a transaction that had already ended: it would have run outside it. */
export class TransactionEndedError extends Error {
  override name = 'TransactionEndedError';
}

const logger = new Logger('Database');

/**
 * Runs what reacts to a commit: one that throws is logged, never thrown to the transaction's
 * caller, for whom the work has committed (a consumer would retry a message it has applied).
 */
function afterCommitted(listener: (tx: Transaction) => void, tx: Transaction): void {
  try {
    listener(tx);
  } catch (error) {
    logger.error(`After the commit of ${tx.label}: ${(error as Error).stack}`);
  }
}
const openTransactions = new AsyncLocalStorage<Transaction>();
const statementNames = new Map<string, string>();
const MANY_STATEMENT_TEXTS = 2000;

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `s${createHash('sha1').update(text).digest('hex').slice(0, 30)}`;
    statementNames.set(text, name);
    if (statementNames.size === MANY_STATEMENT_TEXTS) {
      logger.error(
        `${MANY_STATEMENT_TEXTS} distinct SQL texts: some code builds SQL from values instead of passing them as parameters`,
      );
    }
  }
  return name;
}

/** A failure that leaves the connection unusable (as opposed to an SQL error in the work). */
function breaksConnection(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return code.startsWith('08') || code.startsWith('57P');
  }
  return isTransient(error);
}

/**
 * What a transaction, a session and an autocommit statement share: statements run on one
 * connection, observed, as named prepared statements; once the connection is lost, every
 * statement fails with ConnectionLostError and none is sent anywhere else.
 */
abstract class OneConnection implements Sql {
  private statements = 0;
  private lostWith?: unknown;

  constructor(
    protected readonly client: pg.ClientBase,
    readonly label: string,
    private readonly observers: ReadonlySet<StatementObserver>,
  ) {}

  get backendPid(): number {
    return (this.client as unknown as { processID: number }).processID;
  }

  /** The error that broke the connection, if one has. */
  get lost(): Error | undefined {
    return this.lostWith as Error | undefined;
  }

  /** Marks the connection broken; true the first time. */
  lose(error: unknown): boolean {
    if (this.lostWith !== undefined) return false;
    this.lostWith = error;
    return true;
  }

  async query<Row = Record<string, unknown>>(
    text: string,
    values: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<Row[]> {
    this.ensureUsable();
    await this.observe(text);
    try {
      const result = await this.client.query({
        ...(options.plan === 'per-execution' ? {} : { name: statementName(text) }),
        text,
        values: [...values],
      });
      return result.rows as Row[];
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** What it is, for errors: `transaction "x"`, `session "y"`. */
  protected abstract get what(): string;

  /** Throws when no statement may be sent any more. */
  protected ensureUsable(): void {
    if (this.lostWith !== undefined) throw new ConnectionLostError(this.what, this.lostWith);
  }

  protected async observe(text: string): Promise<void> {
    const index = this.statements++;
    for (const observer of this.observers) {
      await observer({ label: this.label, index, text, backendPid: this.backendPid });
    }
  }

  /** An SQL error stays what it is; a broken connection becomes a ConnectionLostError. */
  protected failure(error: unknown): unknown {
    if (this.lostWith === undefined && !breaksConnection(error)) return error;
    this.lose(error);
    return error instanceof ConnectionLostError ? error : new ConnectionLostError(this.what, error);
  }
}

interface Gathered {
  items: unknown[];
  flush: (items: unknown[]) => Promise<void>;
}

/**
 * One unit of work on one connection. Every statement runs on that connection or fails: once the
 * transaction has ended, or its connection is lost, `query` throws and nothing is sent anywhere
 * else. Made only by `Database.transaction`.
 */
export class Transaction extends OneConnection {
  private ended = false;
  /** Marks left by the work (the outbox sets one), read by commit listeners. */
  readonly marks = new Set<string>();
  private readonly gathered = new Map<object, Gathered>();
  private readonly afterCommits: (() => void)[] = [];

  /**
   * Runs `listener` once the transaction has committed, never if it does not: for what must count
   * only what happened (a metric), not what was tried and rolled back.
   */
  afterCommit(listener: () => void): void {
    this.afterCommits.push(listener);
  }

  /** @internal */
  committed(): void {
    for (const listener of this.afterCommits.splice(0)) afterCommitted(listener, this);
  }

  /**
   * A list to gather work on under `key`, written together (set-based) by `flush` just before
   * COMMIT: a consumer batch's saga steps, say, decided in one read and one append. The first call
   * for a key registers its flush; every call returns the same list. Flushes run in the order
   * their keys were first used, and fail the transaction like any other statement.
   */
  gather<T>(key: object, flush: (items: T[]) => Promise<void>): T[] {
    let gathered = this.gathered.get(key);
    if (!gathered) {
      gathered = { items: [], flush: flush as Gathered['flush'] };
      this.gathered.set(key, gathered);
    }
    return gathered.items as T[];
  }

  /** @internal Flushes what was gathered, including what a flush gathers. */
  async finish(): Promise<void> {
    for (const [key, { items, flush }] of this.gathered) {
      this.gathered.delete(key);
      await flush(items);
    }
  }

  /** Open: statements may still be sent. */
  get isOpen(): boolean {
    return !this.ended && this.lost === undefined;
  }

  /** @internal BEGIN, COMMIT and ROLLBACK: simple statements, observed like the rest. */
  async control(text: string): Promise<void> {
    super.ensureUsable();
    await this.observe(text);
    try {
      await this.client.query(text);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** @internal */
  end(): void {
    this.ended = true;
  }

  protected get what(): string {
    return `transaction "${this.label}"`;
  }

  protected override ensureUsable(): void {
    if (this.ended) {
      throw new TransactionEndedError(
        `A statement was sent to ${this.what} after it ended: it would have run outside it`,
      );
    }
    super.ensureUsable();
  }
}

/** One statement on a pooled connection, in a transaction of its own. */
class AutocommitStatement extends OneConnection {
  protected get what(): string {
    return 'an autocommit statement';
  }
}

/**
 * A connection of its own for as long as its owner keeps it: for session state such as an
 * advisory lock or LISTEN. Once it is lost it stays lost; open another.
 */
export class Session extends OneConnection {
  private readonly lostListeners: ((error: unknown) => void)[] = [];

  constructor(client: pg.Client, label: string, observers: ReadonlySet<StatementObserver>) {
    super(client, label, observers);
    client.on('error', (error) => this.lose(error));
    client.on('end', () => this.lose(new Error('Connection terminated')));
  }

  get isLost(): boolean {
    return this.lost !== undefined;
  }

  /** Called once, when the connection goes (or at once if it has gone). */
  onLost(listener: (error: unknown) => void): void {
    if (this.lost !== undefined) listener(this.lost);
    else this.lostListeners.push(listener);
  }

  /** Delivers NOTIFYs on `channel` (a plain identifier) to `listener`. */
  async listen(channel: string, listener: () => void): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Not a channel name: ${channel}`);
    this.client.on('notification', (message) => {
      if (message.channel === channel) listener();
    });
    await this.query(`LISTEN ${channel}`);
  }

  async close(): Promise<void> {
    this.lose(new Error('Session closed'));
    await (this.client as pg.Client).end().catch(() => undefined);
  }

  override lose(error: unknown): boolean {
    if (!super.lose(error)) return false;
    // A half-open socket would otherwise linger until the kernel gives up on it.
    (
      this.client as unknown as { connection?: { stream?: { destroy(): void } } }
    ).connection?.stream?.destroy();
    for (const listener of this.lostListeners.splice(0)) listener(error);
    return true;
  }

  protected get what(): string {
    return `session "${this.label}"`;
  }
}

/**
 * The one way to run SQL: one statement (`query`), a transaction (`transaction`), or a session
 * (`session`), all on TypeORM's own pool and settings. TypeORM keeps the schema, the migrations
 * and the simple reads of entities.
 *
 * A transaction runs on one connection from BEGIN to COMMIT. Nothing it sends can fall back to
 * another connection; a lost connection fails the whole unit of work, which its caller retries.
 * Code running inside a transaction that asks for another transaction, or for an autocommit
 * statement, is refused: its statements would run outside the transaction it is part of.
 */
@Injectable()
export class Database implements Sql {
  private readonly observers = new Set<StatementObserver>();
  private readonly commitListeners = new Set<(tx: Transaction) => void>();

  constructor(private readonly dataSource: DataSource) {}

  private get pool(): pg.Pool {
    return (this.dataSource.driver as unknown as { master: pg.Pool }).master;
  }

  get url(): string {
    return (this.dataSource.options as { url: string }).url;
  }

  /** How much of the pool is in use, for the metrics. */
  poolUsage(): { total: number; idle: number; waiting: number; max: number } {
    const pool = this.pool;
    return {
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max ?? 10,
    };
  }

  /**
   * Runs `work` in a transaction and commits it; rolls it back if `work` throws. Statements of
   * `work` go through the `tx` it is given, and only through it.
   */
  async transaction<T>(
    work: (tx: Transaction) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const label = options.label ?? 'transaction';
    this.refuseInsideTransaction(`The transaction "${label}"`);
    const client = await this.connect(label);
    const tx = new Transaction(client, label, this.observers);
    const onError = (error: Error) => tx.lose(error);
    client.on('error', onError);
    let result: T;
    try {
      await tx.control(options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation}` : 'BEGIN');
      result = await openTransactions.run(tx, async () => {
        const done = await work(tx);
        await tx.finish();
        return done;
      });
      await tx.control('COMMIT');
    } catch (error) {
      if (!tx.lost) await tx.control('ROLLBACK').catch((rollback) => tx.lose(rollback));
      throw error;
    } finally {
      tx.end();
      client.removeListener('error', onError);
      // A broken connection is thrown away, never handed to the next unit of work.
      client.release(tx.lost);
    }
    tx.committed();
    for (const listener of this.commitListeners) afterCommitted(listener, tx);
    return result;
  }

  /** One statement in a transaction of its own (autocommit), on a pooled connection. */
  async query<Row = Record<string, unknown>>(
    text: string,
    values: readonly unknown[] = [],
    options: QueryOptions = {},
  ): Promise<Row[]> {
    this.refuseInsideTransaction('An autocommit statement');
    const client = await this.connect('autocommit');
    const statement = new AutocommitStatement(client, 'autocommit', this.observers);
    try {
      return await statement.query<Row>(text, values, options);
    } finally {
      client.release(statement.lost);
    }
  }

  /** A dedicated connection, outside the pool, with the same settings. Close it when done. */
  async session(name: string): Promise<Session> {
    this.refuseInsideTransaction(`The session "${name}"`);
    const client = new GuardedClient(connectionSettings(this.url, name));
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new ConnectionLostError(`session "${name}"`, error);
    }
    return new Session(client, name, this.observers);
  }

  /** Called after every commit, with the committed transaction (and its marks). */
  onCommit(listener: (tx: Transaction) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** See StatementObserver. Returns the function that removes it. */
  observeStatements(observer: StatementObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private async connect(what: string): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw new ConnectionLostError(what, error);
    }
  }

  private refuseInsideTransaction(what: string): void {
    const current = openTransactions.getStore();
    if (current?.isOpen) {
      throw new Error(
        `${what} was asked for inside the transaction "${current.label}", so it would run ` +
          'outside it: use the transaction you were given',
      );
    }
  }
}
