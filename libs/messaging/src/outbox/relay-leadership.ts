import { Logger } from '@nestjs/common';
import type { Database, Session } from '@ordering/platform';

const LEADER_LOCK = "hashtext('ordering.outbox-relay')";

/**
 * Which relay of a database publishes: the one holding a session advisory lock, on the same
 * session it reads and marks rows on. Replicas never publish one aggregate's messages out of
 * order, and the others stand by. The lock goes with the session: a crashed leader's lock is
 * freed by PostgreSQL (at once for a closed socket, within about 25 s for a vanished host, by
 * TCP keepalive), and a leader whose session is lost stops leading at once.
 */
export class RelayLeadership {
  private readonly logger = new Logger('OutboxRelay');
  private current?: Session;
  private leading = false;

  constructor(
    private readonly database: Database,
    private readonly onWakeUp: () => void,
  ) {}

  get isLeader(): boolean {
    return this.leading && this.current !== undefined && !this.current.isLost;
  }

  /** The leader's session; only while leading. */
  get session(): Session {
    if (!this.isLeader) throw new Error('the relay does not lead');
    return this.current!;
  }

  /** Leads if it can: true when this relay is (now) the leader. */
  async tryToLead(): Promise<boolean> {
    if (this.isLeader) return true;
    const session = await this.connect();
    const [{ locked }] = await session.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(${LEADER_LOCK}) AS locked`,
    );
    if (locked) this.logger.log('Relaying the outbox');
    this.leading = locked;
    return locked;
  }

  /** Gives up the session (and with it the lock), if any. */
  async resign(): Promise<void> {
    const session = this.current;
    this.current = undefined;
    this.leading = false;
    await session?.close();
  }

  private async connect(): Promise<Session> {
    if (this.current && !this.current.isLost) return this.current;
    await this.resign();
    const session = await this.database.session('outbox-relay');
    session.onLost((error) => {
      if (this.current !== session) return;
      this.logger.warn(`Outbox relay session lost: ${(error as Error).message}`);
      this.current = undefined;
      this.leading = false;
      this.onWakeUp();
    });
    await session.listen('outbox', this.onWakeUp);
    // The unsent rows are found through a partial index that keeps an entry for every row sent
    // since the last vacuum. A bitmap scan (what the planner picks while few rows are unsent)
    // visits all of them, every time; a plain index scan marks them dead as it passes, so the
    // next one skips them: 0.95 -> 0.16 ms per read with 20,000 sent rows not yet vacuumed.
    await session.query('SET enable_bitmapscan = off');
    this.current = session;
    return session;
  }
}
