import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectionFaults, createTestDatabase, type TestDatabase } from '@ordering/testing';
import pg from 'pg';
import { GuardedClient, poolSettings } from '../index.js';
import { ConnectionLostError, TransactionEndedError, type Transaction } from './database.js';

class Marker {}

describe('Database: the one way to run SQL (real PostgreSQL)', () => {
  let test: TestDatabase;
  let faults: ConnectionFaults;
  const rows = async () =>
    (
      (await test.dataSource.query('SELECT note FROM notes ORDER BY note')) as { note: string }[]
    ).map((row) => row.note);

  beforeAll(async () => {
    test = await createTestDatabase('database', []);
    await test.dataSource.query('CREATE TABLE notes (note text PRIMARY KEY)');
    faults = await new ConnectionFaults(test.database).start();
  });
  afterAll(async () => {
    await faults?.stop();
    await test?.drop();
  });

  it('commits a transaction, and rolls it back when its work throws', async () => {
    await test.database.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES ($1)', ['committed']);
    });
    await expect(
      test.database.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1)', ['rolled back']);
        throw new Marker();
      }),
    ).rejects.toBeInstanceOf(Marker);
    expect(await rows()).toEqual(['committed']);
    await test.dataSource.query('TRUNCATE notes');
  });

  it('writes what the work gathered just before COMMIT, in the same transaction, or nothing', async () => {
    const order: string[] = [];
    const flush = (tx: Transaction) => async (notes: string[]) => {
      order.push(`flush ${notes.join(', ')}`);
      await tx.query('INSERT INTO notes SELECT unnest($1::text[])', [notes]);
    };
    const key = {};
    await test.database.transaction(async (tx) => {
      tx.gather(key, flush(tx)).push('first');
      order.push('work');
      tx.gather(key, flush(tx)).push('second');
    });
    expect(order).toEqual(['work', 'flush first, second']);
    expect(await rows()).toEqual(['first', 'second']);
    await expect(
      test.database.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1)', ['undone']);
        tx.gather(key, async () => {
          throw new Marker();
        }).push('never');
      }),
    ).rejects.toBeInstanceOf(Marker);
    expect(await rows()).toEqual(['first', 'second']);
    await test.dataSource.query('TRUNCATE notes');
  });

  it('runs what waits for the commit only after it, never after a rollback or a lost connection', async () => {
    const ran: string[] = [];
    await test.database.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES ($1)', ['after commit']);
      tx.afterCommit(() => ran.push('committed'));
      // One that throws is logged: the transaction has committed, its caller must not be told otherwise.
      tx.afterCommit(() => {
        throw new Error('a listener that fails');
      });
      tx.afterCommit(() => ran.push('after the failing one'));
    });
    await expect(
      test.database.transaction(async (tx) => {
        tx.afterCommit(() => ran.push('rolled back'));
        throw new Marker();
      }),
    ).rejects.toBeInstanceOf(Marker);
    const broken = faults.breakBefore({ label: 'after-commit', text: /^COMMIT/ });
    await expect(
      test.database.transaction(
        async (tx) => {
          tx.afterCommit(() => ran.push('connection lost'));
          await tx.query('SELECT 1');
        },
        { label: 'after-commit' },
      ),
    ).rejects.toBeInstanceOf(ConnectionLostError);
    await broken;

    expect(ran).toEqual(['committed', 'after the failing one']);
    expect(await rows()).toEqual(['after commit']);
    await test.dataSource.query('TRUNCATE notes');
  });

  it('prepares a statement once per connection, unless it is to be planned per execution', async () => {
    const prepared = await test.database.transaction(async (tx) => {
      await tx.query('SELECT note FROM notes WHERE note = ANY($1::text[]) -- marker-once', [['a']]);
      await tx.query(
        'SELECT note FROM notes WHERE note = ANY($1::text[]) -- marker-each',
        [['a']],
        {
          plan: 'per-execution',
        },
      );
      return tx.query<{ statement: string }>(
        "SELECT statement FROM pg_prepared_statements WHERE statement ~ 'marker-(once|each)'",
      );
    });
    expect(prepared.map((row) => row.statement)).toEqual([
      expect.stringContaining('-- marker-once'),
    ]);
  });

  it('fails the rest of a transaction whose connection is lost, running none of it elsewhere', async () => {
    const label = 'lost midway';
    const broken = faults.breakBefore({ label, text: /second/ });
    let afterLoss: unknown;
    const outcome = test.database.transaction(
      async (tx) => {
        await tx.query("INSERT INTO notes VALUES ('first')");
        await tx.query("INSERT INTO notes VALUES ('second')").catch((error: unknown) => {
          afterLoss = error;
        });
        // Code that carries on regardless: this must not run on another connection.
        await tx.query("INSERT INTO notes VALUES ('third')");
      },
      { label },
    );
    await expect(outcome).rejects.toBeInstanceOf(ConnectionLostError);
    await broken;
    expect(afterLoss).toBeInstanceOf(ConnectionLostError);
    expect(await rows()).toEqual([]);
    // The pool is fine: the broken connection was thrown away, not handed to the next one.
    await test.database.transaction((tx) => tx.query("INSERT INTO notes VALUES ('next')"));
    expect(await rows()).toEqual(['next']);
    await test.dataSource.query('TRUNCATE notes');
  });

  it('refuses a statement sent to a transaction after it ended', async () => {
    let leaked!: () => Promise<unknown>;
    await test.database.transaction(async (tx) => {
      leaked = () => tx.query("INSERT INTO notes VALUES ('too late')");
    });
    await expect(leaked()).rejects.toBeInstanceOf(TransactionEndedError);
    expect(await rows()).toEqual([]);
  });

  it('refuses another transaction, or an autocommit statement, inside a transaction', async () => {
    await expect(
      test.database.transaction(async () => {
        await test.database.query("INSERT INTO notes VALUES ('outside')");
      }),
    ).rejects.toThrow(/inside the transaction/);
    await expect(
      test.database.transaction(() =>
        test.database.transaction((inner) => inner.query("INSERT INTO notes VALUES ('nested')")),
      ),
    ).rejects.toThrow(/inside the transaction/);
    expect(await rows()).toEqual([]);
  });

  it('gives every pooled connection an error listener for its whole life', () => {
    const settings = poolSettings(test.url, 'listeners');
    expect(settings.Client).toBe(GuardedClient);
    const client = new GuardedClient({ connectionString: test.url });
    expect(client.listenerCount('error')).toBe(1);
    // An error with nobody else listening would otherwise throw (and kill the process).
    expect(() => client.emit('error', new Error('terminated'))).not.toThrow();
  });

  it('survives backends terminated at any moment, whoever holds the connection', async () => {
    const admin = new pg.Client({ connectionString: test.url });
    admin.on('error', () => undefined);
    await admin.connect();
    let stop = false;
    let succeeded = 0;
    let failed = 0;
    const work = async () => {
      for (let i = 0; !stop; i++) {
        try {
          if (i % 3 === 0) {
            await test.database.transaction(async (tx) => {
              await tx.query('INSERT INTO notes VALUES ($1) ON CONFLICT DO NOTHING', [`n${i}`]);
              await tx.query('SELECT count(*) FROM notes');
            });
          } else if (i % 3 === 1) {
            await test.database.query('SELECT 1');
          } else {
            // TypeORM's own query runners, on the same pool.
            await test.dataSource.query('SELECT 1');
          }
          succeeded++;
        } catch {
          failed++;
        }
      }
    };
    const workers = Array.from({ length: 6 }, work);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stop = true;
    await Promise.all(workers);
    await admin.end();
    // Still standing (an unheard `error` would have killed the test process), and still working.
    expect(succeeded).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    await expect(test.database.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    await test.dataSource.query('TRUNCATE notes');
  });

  it('makes every connection with keepalive and timeouts, on both ends', async () => {
    const settings = async (sql: { query: (text: string) => Promise<unknown[]> }) =>
      (await sql.query(
        `SELECT current_setting('statement_timeout') AS statement_timeout,
           current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction,
           current_setting('tcp_keepalives_idle') AS keepalives_idle,
           current_setting('tcp_keepalives_count') AS keepalives_count`,
      )) as Record<string, string>[];
    const expected = {
      statement_timeout: '30s',
      idle_in_transaction: '1min',
      keepalives_idle: '10',
      keepalives_count: '3',
    };
    // The relay's kind of connection, and a pooled one.
    const session = await test.database.session('settings');
    expect(await settings(session)).toEqual([expected]);
    await session.close();
    expect(await test.database.transaction((tx) => settings(tx))).toEqual([expected]);
  });

  it('loses a session for good when its backend goes, and says so', async () => {
    const session = await test.database.session('test-session');
    const lost = new Promise((resolve) => session.onLost(resolve));
    await session.query('SELECT 1');
    const broken = faults.breakBefore({ label: 'test-session' });
    await expect(session.query('SELECT 2')).rejects.toBeInstanceOf(ConnectionLostError);
    await broken;
    await lost;
    expect(session.isLost).toBe(true);
    await expect(session.query('SELECT 3')).rejects.toBeInstanceOf(ConnectionLostError);
    await session.close();
  });
});
