import type { Database, Statement } from '@ordering/platform';
import pg from 'pg';
import { databaseUrl } from './databases.js';

/** Which statements a fault is aimed at: those of transactions (or sessions) with this label. */
export interface StatementFilter {
  label: string | RegExp;
  /** Only statements whose text matches, if given. */
  text?: RegExp;
}

interface Armed extends StatementFilter {
  index?: number;
  fired: (statement: Statement) => void;
}

const matches = (filter: StatementFilter, statement: Statement) =>
  (typeof filter.label === 'string'
    ? statement.label === filter.label
    : filter.label.test(statement.label)) &&
  (filter.text === undefined || filter.text.test(statement.text));

/**
 * Breaks the database connection of a unit of work at an exact point, the way a terminated
 * backend or a dropped socket would: just before a chosen statement is sent, the statement's
 * backend is terminated from a second connection (`pg_terminate_backend`), and the statement then
 * fails. Tests learn a unit of work's statements first (`statementsOf`), then break it before
 * each of them in turn (`breakBefore`), COMMIT included.
 */
export class ConnectionFaults {
  private readonly admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  private readonly stopObserving: () => void;
  private recording?: { filter: StatementFilter; statements: Statement[] };
  private armed?: Armed;
  private held?: StatementFilter & { reached: () => void; released: Promise<void> };

  constructor(database: Database) {
    this.admin.on('error', () => undefined);
    this.stopObserving = database.observeStatements((statement) => this.observe(statement));
  }

  async start(): Promise<this> {
    await this.admin.connect();
    return this;
  }

  async stop(): Promise<void> {
    this.stopObserving();
    await this.admin.end();
  }

  /** The statements (in order) of the first matching transaction that `work` runs. */
  async statementsOf(filter: StatementFilter, work: () => Promise<unknown>): Promise<string[]> {
    const recording = { filter, statements: [] as Statement[] };
    this.recording = recording;
    try {
      await work();
    } finally {
      this.recording = undefined;
    }
    const texts: string[] = [];
    for (const statement of recording.statements) {
      // Index 0 is a transaction's BEGIN: a second one is another transaction.
      if (texts.length > 0 && statement.index === 0) break;
      texts.push(statement.text);
    }
    if (texts.length === 0) throw new Error(`No statement of ${String(filter.label)} was seen`);
    return texts;
  }

  /**
   * Terminates the backend of the next matching unit of work just before its statement number
   * `index` (or, without one, before its next matching statement). Resolves with that
   * statement's text once the backend is gone; the statement itself then fails.
   */
  breakBefore(filter: StatementFilter & { index?: number }): Promise<string> {
    return new Promise((resolve) => {
      this.armed = { ...filter, fired: (statement) => resolve(statement.text) };
    });
  }

  /**
   * Holds the next matching statement (a retry's BEGIN, say) until `release` is called, so a
   * test can look at what a failed attempt left before the retry runs.
   */
  holdNext(filter: StatementFilter): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const whenReached = new Promise<void>((resolve) => (reached = resolve));
    this.held = { ...filter, reached, released };
    return { reached: whenReached, release };
  }

  private async observe(statement: Statement): Promise<void> {
    if (this.recording && matches(this.recording.filter, statement)) {
      this.recording.statements.push(statement);
    }
    const held = this.held;
    if (held && matches(held, statement)) {
      this.held = undefined;
      held.reached();
      await held.released;
    }
    const armed = this.armed;
    if (!armed || !matches(armed, statement)) return;
    if (armed.index !== undefined && armed.index !== statement.index) return;
    this.armed = undefined;
    await this.admin.query('SELECT pg_terminate_backend($1)', [statement.backendPid]);
    // Gone for good before the statement is sent, so that the statement is what fails.
    for (;;) {
      const { rowCount } = await this.admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
        statement.backendPid,
      ]);
      if (!rowCount) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    armed.fired(statement);
  }
}
