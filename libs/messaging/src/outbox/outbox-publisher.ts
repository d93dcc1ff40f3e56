import type { Span } from '@opentelemetry/api';
import {
  type BrokerConnection,
  endFailed,
  type ManagedChannel,
  SpanKind,
  startSpan,
  traceparentOf,
} from '@ordering/platform';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { publishOptions } from './publish-options.js';

export interface OutboxRow {
  id: string;
  message_id: string;
  exchange: string;
  routing_key: string;
  aggregate_id: string;
  /** The stored CloudEvent as JSON text: published as it is, never parsed and re-serialised. */
  body: string;
  correlationid: string | null;
  time: string | null;
  /** The context of the span that produced the message (stored in its CloudEvent). */
  traceparent: string | null;
  attempts: number;
}

/** The connection dropped before the broker answered: not the message's fault. */
export const CHANNEL_LOST = Symbol('channel lost');
/** Confirmed; otherwise the reason it was not, or CHANNEL_LOST. */
export type Outcome = null | string | typeof CHANNEL_LOST;

const CONFIRM_TIMEOUT_MS = 10_000;
const MISSING_EXCHANGE = /NOT_FOUND - no exchange '([^']+)'/;

/**
 * Publishes outbox rows on a confirm channel of its own, `mandatory`: a row counts as published
 * once the broker has confirmed it without returning it as unroutable.
 */
export class OutboxPublisher {
  private readonly channel: ManagedChannel<ConfirmChannel>;
  private readonly returned = new Map<string, string>();
  private readonly closedBecause = new WeakMap<ConfirmChannel, string>();

  constructor(private readonly broker: BrokerConnection) {
    this.channel = broker.confirmChannel({
      name: 'outbox relay',
      setup: async (channel) => {
        // Emitted before the unconfirmed publishes are failed with "channel closed".
        channel.on('error', (error: Error) => this.closedBecause.set(channel, error.message));
        channel.on('return', (message: ConsumeMessage) =>
          this.returned.set(
            String(message.properties.messageId),
            `unroutable: no queue is bound to ${message.fields.exchange} for ${message.fields.routingKey}`,
          ),
        );
      },
    });
  }

  get isOpen(): boolean {
    return this.channel.current !== undefined;
  }

  /** Resolves once the channel is open, or when `stop` resolves first. */
  async whenOpen(stop: Promise<void>): Promise<void> {
    await Promise.race([this.channel.whenOpen(), stop]);
  }

  /**
   * Each row's outcome, in order. Each publish is a PRODUCER span under the span that produced
   * the message, ended by the broker's answer; the message carries the publish span's context as
   * its `traceparent` header (its CloudEvent keeps the producer's), for consumers to continue.
   */
  async publish(rows: readonly OutboxRow[]): Promise<Outcome[]> {
    const channel = this.channel.current;
    if (!channel) return rows.map(() => CHANNEL_LOST);
    const spans = rows.map((row) => publishSpan(row));
    const outcomes = await this.publishOn(channel, rows, spans);
    outcomes.forEach((outcome, index) => {
      if (outcome === null) spans[index].end();
      else endFailed(spans[index], outcome === CHANNEL_LOST ? 'channel lost' : outcome);
    });
    return outcomes;
  }

  private async publishOn(
    channel: ConfirmChannel,
    rows: readonly OutboxRow[],
    spans: readonly Span[],
  ): Promise<Outcome[]> {
    const outcomes = await new Promise<Outcome[]>((resolve) => {
      const settled: (Outcome | undefined)[] = new Array(rows.length);
      let pending = rows.length;
      const settle = (index: number, outcome: Outcome) => {
        if (settled[index] !== undefined) return;
        settled[index] = outcome;
        if (--pending === 0) {
          clearTimeout(timer);
          resolve(settled as Outcome[]);
        }
      };
      const timer = setTimeout(() => {
        rows.forEach((_, index) => settle(index, `not confirmed within ${CONFIRM_TIMEOUT_MS} ms`));
      }, CONFIRM_TIMEOUT_MS);
      rows.forEach((row, index) => {
        try {
          channel.publish(
            row.exchange,
            row.routing_key,
            Buffer.from(row.body),
            {
              ...publishOptions(row.message_id, row.routing_key, {
                correlationid: row.correlationid ?? undefined,
                time: row.time ?? undefined,
              }),
              headers: traceHeaders(spans[index]),
              mandatory: true,
            },
            (error) => {
              if (error === null || error === undefined) return settle(index, null);
              // amqplib fails what is unconfirmed with "channel closed" when the channel goes.
              const lost = error.message === 'channel closed' || this.channel.current !== channel;
              if (!lost) return settle(index, `not confirmed: ${error.message}`);
              // The broker closes the channel when a message names an exchange that does not
              // exist: that message failed (and is retried with backoff); the others just wait
              // for the channel to be back.
              const why = this.closedBecause.get(channel);
              const missing = why ? MISSING_EXCHANGE.exec(why)?.[1] : undefined;
              settle(index, missing === row.exchange ? `not published: ${why}` : CHANNEL_LOST);
            },
          );
        } catch {
          // Closed under us (publish throws on a closed channel).
          settle(index, CHANNEL_LOST);
        }
      });
    });
    return rows.map((row, index) => {
      const returned = this.returned.get(row.message_id);
      this.returned.delete(row.message_id);
      const outcome = outcomes[index];
      if (outcome === CHANNEL_LOST) return outcome;
      return returned ?? outcome;
    });
  }

  async close(): Promise<void> {
    await this.broker.release(this.channel);
  }
}

function publishSpan(row: OutboxRow): Span {
  return startSpan(`publish ${row.exchange}`, {
    kind: SpanKind.PRODUCER,
    parent: row.traceparent ?? undefined,
    attributes: {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': row.exchange,
      'messaging.rabbitmq.destination.routing_key': row.routing_key,
      'messaging.message.id': row.message_id,
      ...(row.correlationid ? { 'messaging.message.conversation_id': row.correlationid } : {}),
    },
  });
}

function traceHeaders(span: Span): Record<string, string> | undefined {
  const traceparent = traceparentOf(span);
  return traceparent ? { traceparent } : undefined;
}
