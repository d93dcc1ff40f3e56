/** Context carried by every stored event, for tracing and audit. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** Who caused the event: a customer id, an admin, or a service. */
  userId?: string;
  /** W3C trace context of the request or message that caused the event. */
  traceparent?: string;
  [key: string]: unknown;
}

/** An event about to be appended: its stored name is `type`, never a class name. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

/** Where and when an event was stored, beside what it says. */
export interface StoredPlace {
  metadata: EventMetadata;
  streamId: string;
  /** Its version within the stream: 1 for the first event. */
  streamPosition: number;
  /** Its position in the whole log (from a sequence: unique, not gapless, not commit order). */
  globalPosition: bigint;
  /** The id of the transaction that wrote it: what orders the whole log (see readAll). */
  transactionId: bigint;
  /** The schema version it was stored with, before any upcasting. */
  storedSchemaVersion: number;
  recordedAt: Date;
}

/**
 * An event as stored: one of the union `E`, with where it sits in its stream and in the whole
 * log, and when. A `switch` on `type` narrows `data` with it, and a recorded event is also the
 * domain event it records.
 */
export type RecordedEvent<E extends NewEvent = NewEvent> = E & StoredPlace;
