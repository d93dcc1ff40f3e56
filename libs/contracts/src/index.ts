export * from './cloud-event.js';
export * from './events/inventory-events.v1.js';
export * from './events/order-events.v1.js';
export * from './exchanges.js';
export * from './queues.js';
export * from './validation.js';
