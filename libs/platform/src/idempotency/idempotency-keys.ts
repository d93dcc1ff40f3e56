import { createHash } from 'node:crypto';
import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Database, type Transaction } from '../database/database.js';
import { LookupsTogether } from '../database/lookups-together.js';
import { PeriodicTask } from '../periodic-task.js';

/** Keys are honoured for at least this long after their first use. */
export const IDEMPOTENCY_KEY_RETENTION_HOURS = 24;
const CLEANUP_EVERY_MS = 60 * 60 * 1000;

/** A request made with an `Idempotency-Key`: whose key, and a fingerprint of what was asked. */
export interface IdempotentRequest {
  callerId: string;
  key: string;
  requestHash: string;
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface StoredKey {
  request_hash: string;
  response_status: number;
  response_headers: Record<string, string>;
  response_body: unknown;
}

export type PriorOutcome =
  { outcome: 'none' } | { outcome: 'replay'; response: StoredResponse } | { outcome: 'mismatch' };

/** Another request with the same key committed first: this one must change nothing. */
export class IdempotencyKeyTaken extends Error {
  override name = 'IdempotencyKeyTaken';
}

/** A fingerprint of what was asked, so a key reused for another request can be refused. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/**
 * The responses of requests made with an `Idempotency-Key`, per caller. A response is recorded in
 * the transaction of the change it reports: a retry finds either that response (the change
 * committed) or nothing (it did not), never a key held by a request that died.
 */
@Injectable()
export class IdempotencyKeys implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly cleanup = new PeriodicTask('Expired idempotency keys', CLEANUP_EVERY_MS, () =>
    this.deleteExpired(),
  );

  // Every POST with a key asks first; under load one read answers all that arrived meanwhile.
  private readonly stored = new LookupsTogether<IdempotentRequest, StoredKey>(
    ({ callerId, key }) => JSON.stringify([callerId, key]),
    async (requests) => {
      const rows = await this.database.query<StoredKey & { caller_id: string; key: string }>(
        `SELECT k.caller_id, k.key, k.request_hash, k.response_status, k.response_headers,
           k.response_body
         FROM unnest($1::text[], $2::text[]) AS wanted(caller_id, key)
         JOIN idempotency_keys k ON k.caller_id = wanted.caller_id AND k.key = wanted.key
         WHERE k.expires_at > now()`,
        [requests.map((r) => r.callerId), requests.map((r) => r.key)],
        { plan: 'per-execution' },
      );
      return new Map(rows.map((row) => [JSON.stringify([row.caller_id, row.key]), row]));
    },
  );

  constructor(private readonly database: Database) {}

  /** What an earlier request with this key left: its response, or nothing. */
  async prior(request: IdempotentRequest): Promise<PriorOutcome> {
    const row = await this.stored.find(request);
    if (!row) return { outcome: 'none' };
    if (row.request_hash !== request.requestHash) return { outcome: 'mismatch' };
    return {
      outcome: 'replay',
      response: {
        status: row.response_status,
        headers: row.response_headers,
        body: row.response_body,
      },
    };
  }

  /**
   * Records `response` as the answer to `request`, in `tx`. Throws IdempotencyKeyTaken when a
   * request with the same key has committed its own answer first (the caller's transaction must
   * then roll back).
   */
  async record(tx: Transaction, request: IdempotentRequest, response: StoredResponse) {
    await this.recordAll(tx, [{ request, response }]);
  }

  /** Records several answers in one statement (a group commit's); see `record`. */
  async recordAll(
    tx: Transaction,
    answers: readonly { request: IdempotentRequest; response: StoredResponse }[],
  ): Promise<void> {
    if (answers.length === 0) return;
    const recorded = await tx.query(
      `INSERT INTO idempotency_keys (caller_id, key, request_hash, response_status,
         response_headers, response_body, expires_at)
       SELECT a.caller_id, a.key, a.request_hash, a.status, a.headers, a.body,
         now() + make_interval(hours => $7)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[])
         AS a(caller_id, key, request_hash, status, headers, body)
       ON CONFLICT (caller_id, key) DO UPDATE SET request_hash = excluded.request_hash,
         response_status = excluded.response_status,
         response_headers = excluded.response_headers,
         response_body = excluded.response_body, created_at = now(),
         expires_at = excluded.expires_at
       WHERE idempotency_keys.expires_at <= now()
       RETURNING key`,
      [
        answers.map((a) => a.request.callerId),
        answers.map((a) => a.request.key),
        answers.map((a) => a.request.requestHash),
        answers.map((a) => a.response.status),
        answers.map((a) => JSON.stringify(a.response.headers)),
        answers.map((a) => JSON.stringify(a.response.body)),
        IDEMPOTENCY_KEY_RETENTION_HOURS,
      ],
    );
    if (recorded.length < answers.length) {
      const taken = answers.filter((a) => !recorded.some((r) => r.key === a.request.key));
      const keys = taken.map((a) => a.request.key).join(', ');
      throw new IdempotencyKeyTaken(`The Idempotency-Key ${keys} was answered meanwhile`);
    }
  }

  async deleteExpired(): Promise<number> {
    const [{ count }] = await this.database.query<{ count: number }>(
      `WITH deleted AS (DELETE FROM idempotency_keys WHERE expires_at < now() RETURNING 1)
       SELECT count(*)::int AS count FROM deleted`,
    );
    return count;
  }

  onApplicationBootstrap(): void {
    this.cleanup.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.cleanup.stop();
  }
}
