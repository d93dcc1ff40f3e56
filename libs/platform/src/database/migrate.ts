import type { DataSource } from 'typeorm';

/** Taken by whichever instance of a service migrates its database; the others wait for it. */
const MIGRATION_LOCK = "hashtext('ordering.migrations')";

/**
 * Applies the pending migrations, each in its own transaction, one instance at a time: instances
 * started together would otherwise all find the same migrations pending and all run them, and
 * all but one would fail half-way (a table that exists already). The lock is a session advisory
 * lock on a connection of its own; the next instance finds nothing pending once it has it.
 */
export async function migrate(dataSource: DataSource): Promise<void> {
  const session = dataSource.createQueryRunner();
  await session.connect();
  try {
    await session.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await session.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } finally {
    await session.release();
  }
}
