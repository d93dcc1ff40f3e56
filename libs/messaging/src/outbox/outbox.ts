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

/** A message caused by an event the same statement appends: see outboxWriteWithAppend. */
export interface OutboxMessageOfEvent extends OutboxMessage {
  streamId: string;
  streamPosition: number;
}

/**
 * Queues messages for publication in the caller's transaction: they are published if, and only
 * if, the state change that caused them commits. Nothing else ever publishes. Every message is
 * checked against its contract first, so what consumers receive always passes their validation.
 */
export async function addToOutbox(tx: Transaction, messages: readonly OutboxMessage[]) {
  if (messages.length === 0) return;
  const columns = outboxColumns(tx, messages);
  await tx.query(
    `INSERT INTO outbox (message_id, exchange, routing_key, aggregate_id, payload)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    columns,
  );
}

/**
 * The same as addToOutbox, for the messages of events being appended, as a write of the event
 * store's append statement (an AppendWrite: no statement of its own). Each message is written
 * only if its event is, and in the order of the events' log positions.
 */
export function outboxWriteWithAppend(
  tx: Transaction,
  messages: readonly OutboxMessageOfEvent[],
): ((param: (value: unknown) => string) => string) | undefined {
  if (messages.length === 0) return undefined;
  const [ids, exchanges, routingKeys, aggregates, payloads] = outboxColumns(tx, messages);
  return (param) =>
    `INSERT INTO outbox (message_id, exchange, routing_key, aggregate_id, payload)
     SELECT m.message_id, m.exchange, m.routing_key, m.aggregate_id, m.payload
     FROM unnest(${param(messages.map((m) => m.streamId))}::text[],
       ${param(messages.map((m) => m.streamPosition))}::int[], ${param(ids)}::uuid[],
       ${param(exchanges)}::text[], ${param(routingKeys)}::text[], ${param(aggregates)}::text[],
       ${param(payloads)}::jsonb[])
       AS m(stream_id, stream_position, message_id, exchange, routing_key, aggregate_id, payload)
     JOIN appended a ON a.stream_id = m.stream_id AND a.stream_position = m.stream_position
     ORDER BY a.global_position`;
}

/** The outbox's columns for these messages, each checked against its contract first. */
function outboxColumns(tx: Transaction, messages: readonly OutboxMessage[]): unknown[][] {
  for (const { event } of messages) {
    const validation = validateEvent(event);
    if (!validation.valid) {
      throw new InvalidOutgoingEventError(
        `${event.type} ${event.id} breaks its own contract: ${validation.reason}`,
      );
    }
  }
  tx.marks.add(WROTE_TO_OUTBOX);
  return [
    messages.map((m) => m.event.id),
    messages.map((m) => m.exchange),
    messages.map((m) => m.event.type),
    messages.map((m) => m.event.subject),
    messages.map((m) => JSON.stringify(m.event)),
  ];
}
