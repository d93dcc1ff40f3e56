import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { dataschemaOf, type CloudEvent, type Contract } from './cloud-event.js';
import {
  inventoryReleasedV1,
  inventoryReservationFailedV1,
  inventoryReservedV1,
  productUpdatedV1,
} from './events/inventory-events.v1.js';
import {
  orderCancelledV1,
  orderConfirmedV1,
  orderPlacedV1,
  orderRejectedV1,
} from './events/order-events.v1.js';
import { object, timestamp, uuid } from './events/schema-parts.js';

/** Every published event type and version. A change to one is a new version, added here. */
export const contracts: readonly Contract[] = [
  orderPlacedV1,
  orderConfirmedV1,
  orderRejectedV1,
  orderCancelledV1,
  inventoryReservedV1,
  inventoryReservationFailedV1,
  inventoryReleasedV1,
  productUpdatedV1,
];

export function contractFor(type: string, version?: number): Contract | undefined {
  const candidates = contracts.filter((contract) => contract.type === type);
  return version === undefined
    ? candidates.sort((a, b) => b.version - a.version)[0]
    : candidates.find((contract) => contract.version === version);
}

/** The CloudEvents envelope, with the extensions this system always sets. */
export const envelopeSchema = {
  ...object(
    {
      specversion: { const: '1.0' },
      id: uuid,
      source: { type: 'string', pattern: '^/ordering/[a-z]+$' },
      type: { type: 'string', minLength: 1 },
      subject: { type: 'string', minLength: 1 },
      time: timestamp,
      datacontenttype: { const: 'application/json' },
      dataschema: { type: 'string', format: 'uri' },
      correlationid: { type: 'string', minLength: 1 },
      causationid: { type: 'string', minLength: 1 },
      traceparent: {
        type: 'string',
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      },
      data: {},
    },
    ['traceparent'],
  ),
  // Consumers accept extension attributes they do not know, as CloudEvents asks.
  additionalProperties: true,
};

// ajv-formats is CommonJS: under ESM its plugin is the `default` of what the import gives.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv }).default;
let compiled: { envelope: ValidateFunction; data: Map<string, ValidateFunction> } | undefined;

function validators() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: false, strict: true });
    addFormats(ajv);
    compiled = {
      envelope: ajv.compile(envelopeSchema),
      data: new Map(contracts.map((c) => [dataschemaOf(c), ajv.compile(c.schema)])),
    };
  }
  return compiled;
}

const describe = (where: string, errors: ErrorObject[] | null | undefined) => {
  const [error] = errors ?? [];
  if (!error) return `${where} is invalid`;
  const path = `${where}${error.instancePath}`;
  if (error.keyword === 'additionalProperties') {
    return `${path}/${(error.params as { additionalProperty: string }).additionalProperty} is not allowed`;
  }
  return `${path} ${error.message}`;
};

export type Validation =
  { valid: true; event: CloudEvent; contract: Contract } | { valid: false; reason: string };

/**
 * Checks a message against the envelope and against the schema its `dataschema` names. The
 * reason of a refusal is one line naming the path at fault, for a dead letter's headers.
 */
export function validateEvent(value: unknown): Validation {
  const { envelope, data } = validators();
  if (!envelope(value)) return { valid: false, reason: describe('event', envelope.errors) };
  const event = value as CloudEvent;
  const checkData = data.get(event.dataschema);
  const contract = contracts.find((c) => dataschemaOf(c) === event.dataschema);
  if (!checkData || !contract) {
    return { valid: false, reason: `event/dataschema ${event.dataschema} is not a known schema` };
  }
  if (contract.type !== event.type) {
    return {
      valid: false,
      reason: `event/type ${event.type} does not match its dataschema (${contract.type} v${contract.version})`,
    };
  }
  if (!checkData(event.data)) return { valid: false, reason: describe('data', checkData.errors) };
  return { valid: true, event, contract };
}
