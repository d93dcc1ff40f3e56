import type { ServiceName } from '@ordering/contracts';
import type { MixedList } from 'typeorm';
import type { ServiceEnvironment } from './config/environment.js';

type KeysOfType<T, V> = { [K in keyof T]: T[K] extends V ? K : never }[keyof T] & string;

/** What makes one service different from another as far as the plumbing is concerned. */
export interface ServiceDefinition<E extends ServiceEnvironment = ServiceEnvironment> {
  name: ServiceName;
  environment: new () => E;
  httpPortVariable: KeysOfType<E, number>;
  databaseUrlVariable: KeysOfType<E, string>;
  /** Every migration class of the service, in order: listed, never globbed, so bundling is safe. */
  migrations: MixedList<Function>;
}
