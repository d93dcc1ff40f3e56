import { validateEvent, type CloudEvent } from '@ordering/contracts';
import type { Transaction } from '@ordering/platform';

export interface OutboxMessage {
  exchange: string;
  /** The full CloudEvent: its `type` is the routing key, its `subject` the aggregate. */
  event: CloudEvent;
}

/** Left on a transaction that wrote to the outbox, so the relay is woken once it commits. */
export const WROTE_TO_OUTBOX = 'outbox';

/** An event that does not pass its own contract: publishing it would poison every consumer. */
export class InvalidOutgoingEventError extends Error {
  override name = 'InvalidOutgoingEventError';
}

/**
 * Queues messages for publication in the caller's transaction: they are published if, and only
 * if, the state change that caused them commits. Nothing else ever publishes. Every message is
 * checked against its contract first, so what consumers receive always passes their validation.
 */
export async function addToOutbox(tx: Transaction, messages: readonly OutboxMessage[]) {
  if (messages.length === 0) return;
  for (const { event } of messages) {
    const validation = validateEvent(event);
    if (!validation.valid) {
      throw new InvalidOutgoingEventError(
        `${event.type} ${event.id} breaks its own contract: ${validation.reason}`,
      );
    }
  }
  tx.marks.add(WROTE_TO_OUTBOX);
  await tx.query(
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
