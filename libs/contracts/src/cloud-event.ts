import type { ExchangeName } from './exchanges.js';

/**
 * Every message on the wire: a CloudEvents 1.0 event in structured JSON mode
 * (`content-type: application/cloudevents+json`). `type` is the routing key, `subject` the
 * aggregate (an order id, or a SKU), `dataschema` names the payload's schema and version.
 */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  data: T;
  /** Ties together everything one request or flow caused. */
  correlationid: string;
  /** The id of the message or request that caused this one. */
  causationid: string;
  /** W3C trace context, when the cause was traced. */
  traceparent?: string;
}

export const SCHEMA_BASE = 'https://ordering.example/schemas/';

/** One published event type at one version: its routing, its payload schema, its meaning. */
export interface Contract<T = unknown> {
  type: string;
  version: number;
  exchange: ExchangeName;
  /** The CloudEvents `source` of the producing service. */
  source: `/ordering/${'order' | 'inventory' | 'notification'}`;
  description: string;
  /** JSON Schema (draft-07) of `data`. */
  schema: Record<string, unknown>;
  /** Only carries the payload type; never set. */
  readonly sample?: T;
}

export const dataschemaOf = (contract: Pick<Contract, 'type' | 'version'>) =>
  `${SCHEMA_BASE}${contract.type}/v${contract.version}.json`;

/**
 * Builds a message of `contract`. The envelope attributes that follow from the contract are
 * filled in; the caller gives the ones only it knows.
 */
export function createEvent<T>(
  contract: Contract<T>,
  event: Pick<
    CloudEvent<T>,
    'id' | 'subject' | 'time' | 'data' | 'correlationid' | 'causationid'
  > & {
    traceparent?: string;
  },
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: event.id,
    source: contract.source,
    type: contract.type,
    subject: event.subject,
    time: event.time,
    datacontenttype: 'application/json',
    dataschema: dataschemaOf(contract),
    correlationid: event.correlationid,
    causationid: event.causationid,
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
    data: event.data,
  };
}
