import type { Sql, Transaction } from '@ordering/platform';

/**
 * When to snapshot a stream's state, and the shape of that state. Bump `shapeVersion` whenever
 * the state's shape changes: snapshots of another shape are then ignored and replaced.
 */
export interface SnapshotPolicy {
  every: number;
  shapeVersion: number;
}

export interface Snapshot<State> {
  version: number;
  state: State;
}

/** The stream's latest snapshot, if it has one of the current shape. */
export async function readSnapshot<State>(
  sql: Sql,
  streamId: string,
  policy: SnapshotPolicy,
): Promise<Snapshot<State> | undefined> {
  const rows = await sql.query<{ version: number; shape_version: number; state: State }>(
    'SELECT version, shape_version, state FROM snapshots WHERE stream_id = $1',
    [streamId],
  );
  const row = rows[0];
  if (!row || row.shape_version !== policy.shapeVersion) return undefined;
  return { version: row.version, state: row.state };
}

export function snapshotIsDue(policy: SnapshotPolicy, fromVersion: number, toVersion: number) {
  return Math.floor(fromVersion / policy.every) < Math.floor(toVersion / policy.every);
}

export async function saveSnapshot<State>(
  tx: Transaction,
  streamId: string,
  policy: SnapshotPolicy,
  snapshot: Snapshot<State>,
): Promise<void> {
  await tx.query(
    `INSERT INTO snapshots (stream_id, version, shape_version, state) VALUES ($1, $2, $3, $4)
     ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version,
       shape_version = excluded.shape_version, state = excluded.state, taken_at = clock_timestamp()
     WHERE snapshots.version < excluded.version OR snapshots.shape_version <> excluded.shape_version`,
    [streamId, snapshot.version, policy.shapeVersion, JSON.stringify(snapshot.state)],
  );
}
