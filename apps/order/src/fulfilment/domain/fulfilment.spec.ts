import { describe, expect, it } from '@jest/globals';
import { evolve, initialOrder, type Order, type OrderEvent } from '../../ordering/domain/order.js';
import { decideFulfilment, type FulfilmentTrigger } from './fulfilment.js';

const now = new Date('2026-01-02T03:04:05.000Z');
const orderId = '5f0c4c5e-8a4b-4c8e-9a57-0d7e6f1a2b3c';
const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId,
    customerId: 'c-1',
    lines: [{ sku: 'MUG', quantity: 2, unitPrice: 900 }],
    total: 1800,
    currency: 'EUR',
    placedAt: now.toISOString(),
  },
};
const confirmed: OrderEvent = {
  type: 'OrderConfirmed',
  data: { orderId, confirmedAt: now.toISOString() },
};
const rejected: OrderEvent = {
  type: 'OrderRejected',
  data: { orderId, reason: 'RESERVATION_TIMEOUT', shortLines: [], rejectedAt: now.toISOString() },
};
const cancelled: OrderEvent = {
  type: 'OrderCancelled',
  data: {
    orderId,
    reason: 'changed my mind',
    cancelledAt: now.toISOString(),
    previousStatus: 'PENDING',
  },
};

/** Given the order's events, when the saga hears a trigger, then it sends this command (or none). */
const given = (...events: OrderEvent[]) => ({
  when: (trigger: FulfilmentTrigger) =>
    decideFulfilment(trigger, events.reduce<Order>(evolve, initialOrder), now),
});

const shortLines = [{ sku: 'MUG', requested: 2, available: 1 }];

describe('the order-fulfilment saga', () => {
  describe('happy path', () => {
    it('confirms a pending order once its stock is reserved', () => {
      expect(given(placed).when({ type: 'StockReserved' })).toEqual({
        type: 'ConfirmOrder',
        data: { orderId, now },
      });
    });

    it('does nothing when the reservation is heard again', () => {
      expect(given(placed, confirmed).when({ type: 'StockReserved' })).toBeNull();
    });
  });

  describe('compensation', () => {
    it('rejects a pending order as out of stock, with the short lines', () => {
      expect(given(placed).when({ type: 'StockShort', shortLines })).toEqual({
        type: 'RejectOrder',
        data: { orderId, reason: 'OUT_OF_STOCK', shortLines, now },
      });
    });

    it('rejects a pending order whose reservation deadline passed', () => {
      expect(given(placed).when({ type: 'ReservationDeadlinePassed' })).toEqual({
        type: 'RejectOrder',
        data: { orderId, reason: 'RESERVATION_TIMEOUT', shortLines: [], now },
      });
    });

    it('leaves a reservation that arrives after the deadline to the inventory to release', () => {
      expect(given(placed, rejected).when({ type: 'StockReserved' })).toBeNull();
    });

    it('never confirms a cancelled order, whatever arrives late', () => {
      expect(given(placed, cancelled).when({ type: 'StockReserved' })).toBeNull();
      expect(given(placed, cancelled).when({ type: 'ReservationDeadlinePassed' })).toBeNull();
    });

    it('does not reject a confirmed order when a stale deadline or shortage turns up', () => {
      expect(given(placed, confirmed).when({ type: 'ReservationDeadlinePassed' })).toBeNull();
      expect(given(placed, confirmed).when({ type: 'StockShort', shortLines })).toBeNull();
    });

    it('takes note of a release and commands nothing', () => {
      expect(given(placed, cancelled).when({ type: 'StockReleased' })).toBeNull();
    });
  });

  it('ignores news about an order it has never seen placed', () => {
    expect(given().when({ type: 'StockReserved' })).toBeNull();
  });
});
