/**
 * Roles the order API grants beyond a customer's own orders, for other services' tokens. Each
 * allows exactly the calls it names, so a service never needs `admin`.
 */
export const ORDER_API_ROLES = {
  /** Reads any one order as it is now (GET /orders/{id}); not its history, lists or changes. */
  orderReader: 'order-reader',
} as const;
