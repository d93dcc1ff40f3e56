import { createHash } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { preparedQuery } from '../database/prepared-query.js';

/** Keys are honoured for at least this long after their first use. */
export const IDEMPOTENCY_KEY_RETENTION_HOURS = 24;
/** A request still marked in flight after this long is taken to have died with its process. */
const IN_FLIGHT_LEASE_SECONDS = 30;
const CLEANUP_EVERY_MS = 60 * 60 * 1000;

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type Claim =
  | { outcome: 'claimed' }
  | { outcome: 'replay'; response: StoredResponse }
  | { outcome: 'in-flight' }
  | { outcome: 'mismatch' };

/** A fingerprint of what was asked, so a key reused for another request can be refused. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/**
 * The stored outcomes of requests made with an `Idempotency-Key`, per caller. A key is claimed
 * before the request runs and completed with its response after; a claim whose process died is
 * taken over once its lease runs out, and a failed request releases its key for a retry.
 */
@Injectable()
export class IdempotencyKeys implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyKeys.name);
  private cleanup?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

  async claim(callerId: string, key: string, hash: string): Promise<Claim> {
    const claimed = await preparedQuery(
      this.dataSource.manager,
      'idempotency-claim',
      `INSERT INTO idempotency_keys (caller_id, key, request_hash, state, locked_until, expires_at)
       VALUES ($1, $2, $3, 'in-flight', now() + make_interval(secs => $4),
               now() + make_interval(hours => $5))
       ON CONFLICT (caller_id, key) DO UPDATE SET
         request_hash = excluded.request_hash, state = 'in-flight',
         locked_until = excluded.locked_until, expires_at = excluded.expires_at,
         response_status = NULL, response_headers = NULL, response_body = NULL
       WHERE idempotency_keys.expires_at < now()
          OR (idempotency_keys.state = 'in-flight' AND idempotency_keys.locked_until < now()
              AND idempotency_keys.request_hash = excluded.request_hash)
       RETURNING key`,
      [callerId, key, hash, IN_FLIGHT_LEASE_SECONDS, IDEMPOTENCY_KEY_RETENTION_HOURS],
    );
    if (claimed.length > 0) return { outcome: 'claimed' };

    const [existing]: {
      request_hash: string;
      state: string;
      response_status: number;
      response_headers: Record<string, string>;
      response_body: unknown;
    }[] = await this.dataSource.query(
      `SELECT request_hash, state, response_status, response_headers, response_body
       FROM idempotency_keys WHERE caller_id = $1 AND key = $2`,
      [callerId, key],
    );
    // Deleted between the two statements (a failed first attempt): claiming again is fair.
    if (!existing) return this.claim(callerId, key, hash);
    if (existing.request_hash !== hash) return { outcome: 'mismatch' };
    if (existing.state === 'in-flight') return { outcome: 'in-flight' };
    return {
      outcome: 'replay',
      response: {
        status: existing.response_status,
        headers: existing.response_headers,
        body: existing.response_body,
      },
    };
  }

  async complete(callerId: string, key: string, response: StoredResponse): Promise<void> {
    await preparedQuery(
      this.dataSource.manager,
      'idempotency-complete',
      `UPDATE idempotency_keys
       SET state = 'done', response_status = $3, response_headers = $4, response_body = $5
       WHERE caller_id = $1 AND key = $2`,
      [
        callerId,
        key,
        response.status,
        JSON.stringify(response.headers),
        JSON.stringify(response.body),
      ],
    );
  }

  async release(callerId: string, key: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE caller_id = $1 AND key = $2 AND state = 'in-flight'`,
      [callerId, key],
    );
  }

  async deleteExpired(): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      'DELETE FROM idempotency_keys WHERE expires_at < now()',
    );
    return count;
  }

  onModuleInit(): void {
    this.cleanup = setInterval(() => {
      this.deleteExpired().catch((error: Error) =>
        this.logger.warn(`Could not delete expired idempotency keys: ${error.message}`),
      );
    }, CLEANUP_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.cleanup);
  }
}
