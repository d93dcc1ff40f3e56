import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule, { type FormatsPlugin } from 'ajv-formats';
import { envelopeSchema, SCHEMA_BASE, type CloudEvent, type Contract } from './cloud-event.js';
import { contracts } from './registry.js';

export type Validation =
  { valid: true; event: CloudEvent; contract: Contract } | { valid: false; reason: string };

// ajv-formats is CommonJS with an `exports.default`: Node's ESM loader hands over
// `module.exports` (the plugin, which also carries `.default`), while TypeScript (nodenext)
// types the default import as the whole module. Either way `.default ?? itself` is the plugin.
const addFormats =
  (formatsModule as unknown as { default?: FormatsPlugin }).default ??
  (formatsModule as unknown as FormatsPlugin);

interface Validators {
  envelope: ValidateFunction;
  data: Map<Contract, ValidateFunction>;
}
let compiled: Validators | undefined;

/** Compiled once, on first use, so importing the contracts costs nothing. */
function validators(): Validators {
  if (!compiled) {
    const ajv = new Ajv({ strict: true, allErrors: false });
    addFormats(ajv, ['uuid', 'date-time', 'uri']);
    compiled = {
      envelope: ajv.compile(envelopeSchema),
      data: new Map(contracts.map((contract) => [contract, ajv.compile(contract.schema)])),
    };
  }
  return compiled;
}

const DATASCHEMA = new RegExp(
  `^${SCHEMA_BASE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^/]+)/v([1-9][0-9]*)\\.json$`,
);

/**
 * Checks a message: the envelope, that its `dataschema` names a known type and version and that
 * its `type`, `source` and `subject` agree with it, then `data` against that version's schema.
 * A refusal's reason is one line naming the path at fault (`data/lines/0/quantity must be
 * integer`), fit for a dead letter's `x-last-error` header.
 */
export function validateEvent(value: unknown): Validation {
  const { envelope, data } = validators();
  if (!envelope(value)) return invalid(explain('', envelope.errors));
  const event = value as CloudEvent;

  const named = DATASCHEMA.exec(event.dataschema);
  if (!named) {
    return invalid(
      `dataschema ${event.dataschema} is not an Ordering schema (${SCHEMA_BASE}<type>/v<version>.json)`,
    );
  }
  const [, type, version] = named;
  const versions = contracts.filter((c) => c.type === type);
  if (versions.length === 0) return invalid(`dataschema names an unknown event type ${type}`);
  const contract = versions.find((c) => c.version === Number(version));
  if (!contract) {
    const known = versions.map((c) => `v${c.version}`).join(', ');
    return invalid(`dataschema names an unknown version v${version} of ${type} (known: ${known})`);
  }
  if (event.type !== contract.type) {
    return invalid(`type ${event.type} does not match dataschema ${contract.type} v${version}`);
  }
  if (event.source !== contract.source) {
    return invalid(
      `source ${event.source} does not match ${type}, published by ${contract.source}`,
    );
  }

  const checkData = data.get(contract)!;
  if (!checkData(event.data)) return invalid(explain('data', checkData.errors));
  const subject = (event.data as Record<string, unknown>)[contract.subjectField];
  if (event.subject !== subject) {
    return invalid(`subject ${event.subject} does not match data/${contract.subjectField}`);
  }
  return { valid: true, event, contract };
}

const invalid = (reason: string): Validation => ({ valid: false, reason });

const join = (...parts: string[]) => parts.filter(Boolean).join('/');

/** The first error, as `<path> <what is wrong>`; the path is `event` for the whole message. */
function explain(root: string, errors: ErrorObject[] | null | undefined): string {
  const error = errors?.[0];
  const at = join(root, error?.instancePath.slice(1) ?? '');
  const path = at || 'event';
  if (!error) return `${path} is invalid`;
  switch (error.keyword) {
    case 'required':
      return `${join(at, error.params.missingProperty as string)} is required`;
    case 'additionalProperties':
      return `${join(at, error.params.additionalProperty as string)} is not allowed`;
    case 'enum':
      return `${path} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${path} must be ${JSON.stringify(error.params.allowedValue)}`;
    default:
      return `${path} ${error.message ?? 'is invalid'}`;
  }
}
