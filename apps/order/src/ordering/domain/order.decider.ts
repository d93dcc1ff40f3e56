import {
  evolve,
  initialOrder,
  isTerminal,
  type Order,
  type OrderEvent,
  type OrderLine,
  type PlacedOrder,
  type RejectionReason,
  type ShortLine,
} from './order.js';
import { OrderRuleBroken } from './order-rule-broken.js';

/** What the catalogue says a SKU costs right now. */
export interface CatalogueEntry {
  /** In minor units (cents), an integer. */
  price: number;
  currency: string;
}

export type PlaceOrder = {
  type: 'PlaceOrder';
  data: {
    orderId: string;
    customerId: string;
    /** Within the limits of lines and units the edge holds them to (place-order.request.ts). */
    items: { sku: string; quantity: number }[];
    /** The prices the order is placed at; the customer never sets a price. */
    catalogue: ReadonlyMap<string, CatalogueEntry>;
    now: Date;
  };
};

export type ConfirmOrder = { type: 'ConfirmOrder'; data: { orderId: string; now: Date } };

export type RejectOrder = {
  type: 'RejectOrder';
  data: { orderId: string; reason: RejectionReason; shortLines: ShortLine[]; now: Date };
};

export type CancelOrder = {
  type: 'CancelOrder';
  data: { orderId: string; reason: string; now: Date };
};

export type OrderCommand = PlaceOrder | ConfirmOrder | RejectOrder | CancelOrder;

/** Decides what a command does to an order. Pure: the clock and the prices come in the command. */
export function decide(command: OrderCommand, state: Order): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder':
      return placeOrder(command, state);
    case 'ConfirmOrder':
      return confirmOrder(command, state);
    case 'RejectOrder':
      return rejectOrder(command, state);
    case 'CancelOrder':
      return cancelOrder(command, state);
    default:
      return unknownCommand(command);
  }
}

/** The Order as a decider, for the command handler and the tests. */
export const orderDecider = { decide, evolve, initialState: initialOrder };

function placeOrder({ data }: PlaceOrder, state: Order): OrderEvent[] {
  const { orderId, customerId, items, catalogue, now } = data;
  if (state.status !== 'NONE') {
    throw new OrderRuleBroken('ORDER_EXISTS', `Order ${orderId} already exists.`, {
      orderId,
      status: state.status,
    });
  }
  const skus = items.map((item) => item.sku);
  const duplicates = unique(skus.filter((sku, index) => skus.indexOf(sku) !== index));
  if (duplicates.length > 0) {
    throw new OrderRuleBroken(
      'DUPLICATE_SKU',
      `Each SKU may appear on one line only; repeated: ${duplicates.join(', ')}.`,
      { skus: duplicates },
    );
  }
  const unknown = skus.filter((sku) => !catalogue.has(sku));
  if (unknown.length > 0) {
    throw new OrderRuleBroken('UNKNOWN_SKUS', `Unknown SKUs: ${unknown.join(', ')}.`, {
      skus: unknown,
    });
  }

  const priced = items.map(({ sku, quantity }) => ({ sku, quantity, entry: catalogue.get(sku)! }));
  const currencies = unique(priced.map(({ entry }) => entry.currency));
  if (currencies.length > 1) {
    throw new OrderRuleBroken(
      'MIXED_CURRENCIES',
      `All lines of an order must be priced in one currency, but they are priced in ${currencies.join(', ')}.`,
      { currencies },
    );
  }

  const lines: OrderLine[] = priced.map(({ sku, quantity, entry }) => ({
    sku,
    quantity,
    unitPrice: entry.price,
  }));
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  return [
    {
      type: 'OrderPlaced',
      data: {
        orderId,
        customerId,
        lines,
        total,
        currency: currencies[0]!,
        placedAt: now.toISOString(),
      },
    },
  ];
}

function confirmOrder({ data }: ConfirmOrder, state: Order): OrderEvent[] {
  const order = existing(state, data.orderId);
  // The saga may deliver the confirmation twice; the second one changes nothing.
  if (order.status === 'CONFIRMED') return [];
  if (isTerminal(order.status)) throw final(order, 'confirmed');
  return [
    {
      type: 'OrderConfirmed',
      data: { orderId: order.orderId, confirmedAt: data.now.toISOString() },
    },
  ];
}

function rejectOrder({ data }: RejectOrder, state: Order): OrderEvent[] {
  const order = existing(state, data.orderId);
  if (order.status === 'REJECTED') return [];
  if (isTerminal(order.status)) throw final(order, 'rejected');
  if (order.status !== 'PENDING') {
    throw new OrderRuleBroken(
      'NOT_PENDING',
      `Order ${order.orderId} is ${order.status.toLowerCase()}; only a pending order can be rejected.`,
      { orderId: order.orderId, status: order.status },
    );
  }
  return [
    {
      type: 'OrderRejected',
      data: {
        orderId: order.orderId,
        reason: data.reason,
        shortLines: data.shortLines,
        rejectedAt: data.now.toISOString(),
      },
    },
  ];
}

function cancelOrder({ data }: CancelOrder, state: Order): OrderEvent[] {
  const order = existing(state, data.orderId);
  if (isTerminal(order.status)) throw final(order, 'cancelled');
  return [
    {
      type: 'OrderCancelled',
      data: {
        orderId: order.orderId,
        reason: data.reason,
        cancelledAt: data.now.toISOString(),
        previousStatus: order.status,
      },
    },
  ];
}

function existing(state: Order, orderId: string): PlacedOrder {
  if (state.status === 'NONE') {
    throw OrderRuleBroken.orderNotFound(orderId);
  }
  return state;
}

function final(order: PlacedOrder, attempted: string): OrderRuleBroken {
  return new OrderRuleBroken(
    'ORDER_IS_FINAL',
    `Order ${order.orderId} is ${order.status.toLowerCase()} and can no longer be ${attempted}.`,
    { orderId: order.orderId, status: order.status },
  );
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

// Compiles only while decide covers every OrderCommand.
function unknownCommand(command: never): never {
  throw new Error(`Unknown order command type: ${String((command as { type?: unknown }).type)}`);
}
