import { UnknownEventTypeError } from './errors.js';
import type { NewEvent } from './events.js';

/** Turns the data of version `n` of an event into version `n + 1`. */
export type Upcaster = (data: never) => unknown;

export interface EventTypeDefinition {
  /** The version new events of this type are stored with. */
  version: number;
  /** `upcasters[n]` upgrades data stored at version `n` to `n + 1`; every step must be present. */
  upcasters?: Record<number, Upcaster>;
}

/**
 * The one table from stored event names and schema versions to today's shapes, for the event
 * union `E`: keyed by its types, so an event added to the union without an entry here fails to
 * compile. Stored names are written here by hand, so renaming a class or a file never orphans
 * stored events.
 */
export class EventTypeRegistry<E extends NewEvent = NewEvent> {
  private readonly definitions: ReadonlyMap<string, EventTypeDefinition>;
  /** Every stored name of the union, once. */
  readonly types: readonly E['type'][];

  constructor(definitions: { readonly [Type in E['type']]: EventTypeDefinition }) {
    for (const [type, definition] of Object.entries<EventTypeDefinition>(definitions)) {
      for (let from = 1; from < definition.version; from++) {
        if (!definition.upcasters?.[from]) {
          throw new Error(`Event type "${type}" has no upcaster from version ${from}`);
        }
      }
    }
    this.definitions = new Map(Object.entries<EventTypeDefinition>(definitions));
    this.types = Object.freeze([...this.definitions.keys()] as E['type'][]);
  }

  currentVersion(type: E['type']): number {
    const definition = this.definitions.get(type);
    if (!definition) throw new UnknownEventTypeError(type);
    return definition.version;
  }

  /** Brings data stored at `version` up to the current version of its type, one step at a time. */
  upcast(type: string, version: number, data: unknown): unknown {
    const definition = this.definitions.get(type);
    if (!definition) throw new UnknownEventTypeError(type);
    if (version > definition.version) {
      throw new Error(
        `Event type "${type}" was stored at version ${version}, newer than this code knows ` +
          `(${definition.version}): deploy the newer code`,
      );
    }
    let upgraded = data;
    for (let from = version; from < definition.version; from++) {
      upgraded = (definition.upcasters![from] as (data: unknown) => unknown)(upgraded);
    }
    return upgraded;
  }
}
