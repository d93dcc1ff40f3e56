import type { ExchangeName } from './exchanges.js';

/** The AMQP `content-type` of every message: a CloudEvent in structured JSON mode. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

export type ServiceName = 'order' | 'inventory' | 'notification';
/** The CloudEvents `source` of each producing service. */
export type EventSource = `/ordering/${ServiceName}`;

/**
 * Every message on the wire: a CloudEvents 1.0 event in structured JSON mode, the whole event
 * being the AMQP body. `type` is the routing key, `subject` the aggregate the event is about (an
 * order id, or a SKU), `dataschema` names the payload's schema and its version.
 */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** A UUID, unique per message: consumers deduplicate on it. */
  id: string;
  source: string;
  type: string;
  subject: string;
  /** RFC 3339. */
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

/** A JSON Schema (draft-07), as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * One published event type at one version: its routing, its payload schema, its meaning. A
 * published contract never changes: a change to the payload is a new version, in a new file.
 */
export interface Contract<T = unknown> {
  /** The CloudEvents `type`, which is also the AMQP routing key. */
  readonly type: string;
  readonly version: number;
  /** The topic exchange it is published to. */
  readonly exchange: ExchangeName;
  /** The CloudEvents `source`: the producing service. */
  readonly source: EventSource;
  /** The `dataschema` of every message of this contract; names the type and the version. */
  readonly dataschema: string;
  /** The field of `data` that every message carries as its `subject`. */
  readonly subjectField: string;
  readonly description: string;
  /** JSON Schema (draft-07) of `data`; documented unchanged in docs/asyncapi.yaml. */
  readonly schema: JsonSchema;
  /** A valid payload, as documentation (docs/asyncapi.yaml shows the same one). */
  readonly example: T;
}

export const SCHEMA_BASE = 'https://ordering.example/schemas/';

export const dataschemaOf = (contract: Pick<Contract, 'type' | 'version'>) =>
  `${SCHEMA_BASE}${contract.type}/v${contract.version}.json`;

/**
 * The CloudEvents envelope, with the extension attributes this system always sets. Unknown
 * extension attributes are accepted, as CloudEvents asks of consumers.
 */
export const envelopeSchema = {
  type: 'object',
  additionalProperties: true,
  required: [
    'specversion',
    'id',
    'source',
    'type',
    'subject',
    'time',
    'datacontenttype',
    'dataschema',
    'data',
    'correlationid',
    'causationid',
  ],
  properties: {
    specversion: { const: '1.0' },
    id: {
      type: 'string',
      format: 'uuid',
      description: 'Unique per message: deduplicate on it.',
    },
    source: { enum: ['/ordering/order', '/ordering/inventory', '/ordering/notification'] },
    type: {
      type: 'string',
      minLength: 1,
      description: 'The event type, equal to the AMQP routing key.',
    },
    subject: {
      type: 'string',
      minLength: 1,
      description: 'The aggregate: the order id, or the SKU for product.updated.',
    },
    time: { type: 'string', format: 'date-time' },
    datacontenttype: { const: 'application/json' },
    dataschema: {
      type: 'string',
      format: 'uri',
      description: 'https://ordering.example/schemas/<type>/v<version>.json',
    },
    data: { type: 'object' },
    correlationid: { type: 'string', minLength: 1 },
    causationid: { type: 'string', minLength: 1 },
    traceparent: {
      type: 'string',
      pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
    },
  },
} as const;

/**
 * Builds a message of `contract`. The envelope attributes that follow from the contract are
 * filled in; the caller gives the ones only it knows.
 */
export function createEvent<T>(
  contract: Contract<T>,
  event: Pick<
    CloudEvent<T>,
    'id' | 'subject' | 'time' | 'data' | 'correlationid' | 'causationid' | 'traceparent'
  >,
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: event.id,
    source: contract.source,
    type: contract.type,
    subject: event.subject,
    time: event.time,
    datacontenttype: 'application/json',
    dataschema: contract.dataschema,
    correlationid: event.correlationid,
    causationid: event.causationid,
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
    data: event.data,
  };
}
