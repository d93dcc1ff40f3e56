export * from './deciding.js';
export * from './errors.js';
export * from './event-store.js';
export * from './event-store.migration.js';
export * from './event-type-registry.js';
export * from './events.js';
export * from './snapshots.js';
