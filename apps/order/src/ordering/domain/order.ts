export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

export interface OrderLine {
  sku: string;
  quantity: number;
  /** In minor units of the order's currency (cents), an integer. */
  unitPrice: number;
}

/** A line stock could not cover when the order was rejected. */
export interface ShortLine {
  sku: string;
  requested: number;
  available: number;
}

export type RejectionReason = 'OUT_OF_STOCK' | 'RESERVATION_TIMEOUT';

export type OrderPlaced = {
  type: 'OrderPlaced';
  data: {
    orderId: string;
    customerId: string;
    lines: OrderLine[];
    /** In minor units: the sum of quantity × unitPrice over the lines. */
    total: number;
    currency: string;
    placedAt: string;
  };
};

export type OrderConfirmed = {
  type: 'OrderConfirmed';
  data: { orderId: string; confirmedAt: string };
};

export type OrderRejected = {
  type: 'OrderRejected';
  data: { orderId: string; reason: RejectionReason; shortLines: ShortLine[]; rejectedAt: string };
};

export type OrderCancelled = {
  type: 'OrderCancelled';
  data: {
    orderId: string;
    reason: string;
    cancelledAt: string;
    /** A confirmed order holds reserved stock that must be released; a pending one may not. */
    previousStatus: 'PENDING' | 'CONFIRMED';
  };
};

export type OrderEvent = OrderPlaced | OrderConfirmed | OrderRejected | OrderCancelled;

export type PlacedOrder = {
  status: OrderStatus;
  orderId: string;
  customerId: string;
  lines: OrderLine[];
  total: number;
  currency: string;
  placedAt: string;
  /** Why it was rejected or cancelled. */
  reason?: string;
  /** Set when it was rejected for lack of stock. */
  shortLines?: ShortLine[];
};

export type Order = { status: 'NONE' } | PlacedOrder;

export const initialOrder: Order = { status: 'NONE' };

/**
 * Folds one event into the state. It checks no rule (decide did, before the event existed);
 * a stream always starts with OrderPlaced, so any other event meeting an unplaced order is
 * left out rather than inventing an order without lines.
 */
export function evolve(state: Order, event: OrderEvent): Order {
  switch (event.type) {
    case 'OrderPlaced': {
      const { orderId, customerId, lines, total, currency, placedAt } = event.data;
      return { status: 'PENDING', orderId, customerId, lines, total, currency, placedAt };
    }
    case 'OrderConfirmed':
      if (state.status === 'NONE') return state;
      return { ...state, status: 'CONFIRMED' };
    case 'OrderRejected':
      if (state.status === 'NONE') return state;
      return {
        ...state,
        status: 'REJECTED',
        reason: event.data.reason,
        shortLines: event.data.shortLines,
      };
    case 'OrderCancelled':
      if (state.status === 'NONE') return state;
      return { ...state, status: 'CANCELLED', reason: event.data.reason };
    default:
      return unknownEvent(event);
  }
}

// Compiles only while the switch above covers every OrderEvent. At run time it means the store
// handed over a type this code does not know, which the type registry should have refused.
function unknownEvent(event: never): never {
  throw new Error(`Unknown order event type: ${String((event as { type?: unknown }).type)}`);
}

/** A rejected or cancelled order is final: it accepts no further transition. */
export const isTerminal = (status: Order['status']): status is 'REJECTED' | 'CANCELLED' =>
  status === 'REJECTED' || status === 'CANCELLED';
