/** The order lifecycle moments a customer hears about. */
export type NotificationKind = 'ORDER_CONFIRMED' | 'ORDER_REJECTED' | 'ORDER_CANCELLED';

/** What the message needs to know about the order, as the order API tells it. */
export interface OrderDetails {
  orderId: string;
  customerId: string;
  status: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  reason?: string;
  shortLines?: { sku: string; requested: number; available: number }[];
}

export interface RenderedMessage {
  subject: string;
  body: string;
}

const money = (minorUnits: number, currency: string) =>
  `${(minorUnits / 100).toFixed(2)} ${currency}`;

const REJECTIONS: Record<string, string> = {
  OUT_OF_STOCK: 'some items are out of stock',
  RESERVATION_TIMEOUT: 'we could not confirm the stock in time',
};

/** Renders the message for one moment of an order. Pure: the same order gives the same text. */
export function renderNotification(kind: NotificationKind, order: OrderDetails): RenderedMessage {
  const reference = order.orderId.slice(0, 8).toUpperCase();
  const lines = order.items
    .map((item) => `  ${item.quantity} × ${item.sku} at ${money(item.unitPrice, order.currency)}`)
    .join('\n');
  switch (kind) {
    case 'ORDER_CONFIRMED':
      return {
        subject: `Your order ${reference} is confirmed`,
        body: `Good news: your order ${order.orderId} is confirmed.\n\n${lines}\n\nTotal: ${money(order.total, order.currency)}`,
      };
    case 'ORDER_REJECTED': {
      const why = REJECTIONS[order.reason ?? ''] ?? 'it could not be fulfilled';
      const short = (order.shortLines ?? [])
        .map((line) => `  ${line.sku}: ${line.requested} requested, ${line.available} available`)
        .join('\n');
      return {
        subject: `Your order ${reference} could not be completed`,
        body:
          `We are sorry: your order ${order.orderId} was not accepted because ${why}.` +
          (short ? `\n\n${short}` : '') +
          '\n\nYou have not been charged.',
      };
    }
    case 'ORDER_CANCELLED':
      return {
        subject: `Your order ${reference} is cancelled`,
        body:
          `Your order ${order.orderId} is cancelled` +
          (order.reason ? ` (${order.reason})` : '') +
          `.\n\n${lines}`,
      };
  }
}
