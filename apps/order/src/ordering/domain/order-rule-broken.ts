/** The business rules of an order; each names one way a command can be refused. */
export type OrderRule =
  | 'DUPLICATE_SKU'
  | 'UNKNOWN_SKUS'
  | 'MIXED_CURRENCIES'
  | 'ORDER_EXISTS'
  | 'ORDER_NOT_FOUND'
  | 'ORDER_IS_FINAL'
  | 'NOT_PENDING';

/**
 * A command the order refuses. `message` is a sentence a client may read; `rule` and `details`
 * are stable and machine-readable, so the HTTP layer maps on `rule`, never on the message.
 */
export class OrderRuleBroken extends Error {
  /** The one refusal of an order that does not exist, or that the caller may not see. */
  static orderNotFound(orderId: string): OrderRuleBroken {
    return new OrderRuleBroken('ORDER_NOT_FOUND', `Order ${orderId} does not exist.`, { orderId });
  }

  override readonly name = 'OrderRuleBroken';

  constructor(
    readonly rule: OrderRule,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
