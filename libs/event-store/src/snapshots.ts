import type { Transaction } from '@ordering/platform';

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

/** Whether moving a stream from one version to the other crosses a multiple of `every`. */
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
