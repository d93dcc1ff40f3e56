export * from './bootstrap/run-service.js';
export * from './broker/broker-connection.js';
export * from './broker/broker.module.js';
export * from './config/environment.js';
export * from './connection-url.js';
export * from './platform.module.js';
export * from './service-definition.js';
export * from './with-timeout.js';
