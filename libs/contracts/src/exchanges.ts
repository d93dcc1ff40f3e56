/** Durable topic exchanges, one per publishing service; routing keys are the event types. */
export const Exchanges = {
  order: 'order.events',
  inventory: 'inventory.events',
  notification: 'notification.events',
} as const;

export type ExchangeName = (typeof Exchanges)[keyof typeof Exchanges];
