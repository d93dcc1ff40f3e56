import type { ConfirmOrder, RejectOrder } from '../../ordering/domain/order.decider.js';
import type { Order, ShortLine } from '../../ordering/domain/order.js';

/** What the fulfilment saga hears about an order: the inventory's answers, and its own clock. */
export type FulfilmentTrigger =
  | { type: 'StockReserved' }
  | { type: 'StockShort'; shortLines: ShortLine[] }
  | { type: 'ReservationDeadlinePassed' }
  | { type: 'StockReleased' };

/** What the saga may tell an order: confirm or reject it (cancelling is the customer's). */
export type FulfilmentCommand = ConfirmOrder | RejectOrder;

/**
 * The saga's decisions: what to tell the order when something happens. It drives every order to a
 * terminal state; its state is the order's own stream, so nothing lives in memory.
 *
 * Compensation needs no command here: the inventory releases a reservation by itself when it sees
 * the order rejected or cancelled, including a reservation that arrives after the deadline.
 */
export function decideFulfilment(
  trigger: FulfilmentTrigger,
  order: Order,
  now: Date,
): FulfilmentCommand | null {
  if (order.status !== 'PENDING') return null;
  const orderId = order.orderId;
  switch (trigger.type) {
    // Happy path
    case 'StockReserved':
      return { type: 'ConfirmOrder', data: { orderId, now } };
    // Compensation: the order ends rejected and holds nothing
    case 'StockShort':
      return {
        type: 'RejectOrder',
        data: { orderId, reason: 'OUT_OF_STOCK', shortLines: trigger.shortLines, now },
      };
    case 'ReservationDeadlinePassed':
      return {
        type: 'RejectOrder',
        data: { orderId, reason: 'RESERVATION_TIMEOUT', shortLines: [], now },
      };
    case 'StockReleased':
      return null;
  }
}
