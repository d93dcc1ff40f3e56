import type { CloudEvent } from '@ordering/contracts';
import { preparedQuery } from '@ordering/platform';
import type { EntityManager, QueryRunner } from 'typeorm';

export interface OutboxMessage {
  exchange: string;
  /** The full CloudEvent: its `type` is the routing key, its `subject` the aggregate. */
  event: CloudEvent;
}

// Set on the transaction's query runner, so the relay can be woken once the transaction commits.
const WROTE_TO_OUTBOX = 'ordering.wroteToOutbox';

/**
 * Queues messages for publication in the caller's transaction: they are published if, and only
 * if, the state change that caused them commits. Nothing else ever publishes.
 */
export async function addToOutbox(tx: EntityManager, messages: readonly OutboxMessage[]) {
  if (messages.length === 0) return;
  if (!tx.queryRunner?.isTransactionActive) {
    throw new Error(
      'addToOutbox needs the transaction of the change that causes the messages (dataSource.transaction)',
    );
  }
  tx.queryRunner.data[WROTE_TO_OUTBOX] = true;
  await preparedQuery(
    tx,
    'outbox-add',
    `INSERT INTO outbox (message_id, exchange, routing_key, aggregate_id, payload)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    [
      messages.map((m) => m.event.id),
      messages.map((m) => m.exchange),
      messages.map((m) => m.event.type),
      messages.map((m) => m.event.subject),
      messages.map((m) => JSON.stringify(m.event)),
    ],
  );
}

/** Whether the transaction run on `runner` wrote to the outbox; forgets it for the next one. */
export function takeOutboxWrite(runner: QueryRunner): boolean {
  const wrote = runner.data[WROTE_TO_OUTBOX] === true;
  delete runner.data[WROTE_TO_OUTBOX];
  return wrote;
}
