export * from './databases.js';
export * from './eventually.js';
export * from './service-process.js';
export * from './tcp-proxy.js';
export * from './decider-specification.js';
export * from './http-client.js';
export * from './vhosts.js';
export * from './system.js';
