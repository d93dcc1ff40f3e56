import { describe, expect, it } from '@jest/globals';
import { deciderSpecification } from '@ordering/testing';
import {
  evolve,
  initialOrder,
  isTerminal,
  type Order,
  type OrderCancelled,
  type OrderEvent,
  type OrderPlaced,
} from './order.js';
import {
  orderDecider,
  type CancelOrder,
  type CatalogueEntry,
  type ConfirmOrder,
  type PlaceOrder,
  type RejectOrder,
} from './order.decider.js';
import { OrderRuleBroken, type OrderRule } from './order-rule-broken.js';
import {
  cancelled,
  catalogue,
  confirmed,
  customerId,
  now,
  orderId,
  placed,
  rejected,
} from './order.fixtures.js';

const placeOrder = (
  items: { sku: string; quantity: number }[],
  prices: ReadonlyMap<string, CatalogueEntry> = catalogue,
): PlaceOrder => ({
  type: 'PlaceOrder',
  data: { orderId, customerId, items, catalogue: prices, now },
});
const confirmOrder: ConfirmOrder = { type: 'ConfirmOrder', data: { orderId, now } };
const rejectOrder: RejectOrder = {
  type: 'RejectOrder',
  data: {
    orderId,
    reason: 'OUT_OF_STOCK',
    shortLines: [{ sku: 'BOOK-1', requested: 2, available: 1 }],
    now,
  },
};
const cancelOrder: CancelOrder = {
  type: 'CancelOrder',
  data: { orderId, reason: 'Changed my mind', now },
};

const spec = deciderSpecification(orderDecider);

/** Asserts the rule an OrderRuleBroken names and, when given, its details. */
const broke =
  (rule: OrderRule, details?: Record<string, unknown>, message?: string) =>
  (error: OrderRuleBroken): void => {
    expect(error.rule).toBe(rule);
    if (details) expect(error.details).toEqual(details);
    if (message) expect(error.message).toBe(message);
  };

/** A catalogue of `count` EUR SKUs, SKU-001 priced 1 cent, SKU-002 2 cents, and so on. */
function numberedCatalogue(count: number): Map<string, CatalogueEntry> {
  return new Map(
    Array.from({ length: count }, (_, index) => [
      `SKU-${String(index + 1).padStart(3, '0')}`,
      { price: index + 1, currency: 'EUR' },
    ]),
  );
}

describe('Order decider', () => {
  describe('PlaceOrder', () => {
    it('places the order at catalogue prices, totals it in minor units and stamps it with now', () => {
      spec
        .given([])
        .when(
          placeOrder([
            { sku: 'BOOK-1', quantity: 2 },
            { sku: 'PEN-1', quantity: 3 },
          ]),
        )
        .then([
          {
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId,
              lines: [
                { sku: 'BOOK-1', quantity: 2, unitPrice: 1250 },
                { sku: 'PEN-1', quantity: 3, unitPrice: 199 },
              ],
              total: 2 * 1250 + 3 * 199,
              currency: 'EUR',
              placedAt: '2026-01-02T03:04:05.000Z',
            },
          },
        ]);
    });

    it('takes the currency from the catalogue', () => {
      spec
        .given([])
        .when(
          placeOrder([
            { sku: 'MUG-US', quantity: 1 },
            { sku: 'CAP-US', quantity: 2 },
          ]),
        )
        .then([
          {
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId,
              lines: [
                { sku: 'MUG-US', quantity: 1, unitPrice: 899 },
                { sku: 'CAP-US', quantity: 2, unitPrice: 1500 },
              ],
              total: 3899,
              currency: 'USD',
              placedAt: '2026-01-02T03:04:05.000Z',
            },
          },
        ]);
    });

    it.each([1, 1000])('accepts %i units of a SKU', (quantity) => {
      spec
        .given([])
        .when(placeOrder([{ sku: 'BOOK-1', quantity }]))
        .then([
          {
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId,
              lines: [{ sku: 'BOOK-1', quantity, unitPrice: 1250 }],
              total: quantity * 1250,
              currency: 'EUR',
              placedAt: '2026-01-02T03:04:05.000Z',
            },
          },
        ]);
    });

    it('accepts 100 lines', () => {
      const prices = numberedCatalogue(100);
      const items = [...prices.keys()].map((sku) => ({ sku, quantity: 1 }));

      const [event] = orderDecider.decide(placeOrder(items, prices), initialOrder);

      expect(event?.type).toBe('OrderPlaced');
      const data = (event as OrderPlaced).data;
      expect(data.lines).toHaveLength(100);
      expect(data.lines[99]).toEqual({ sku: 'SKU-100', quantity: 1, unitPrice: 100 });
      // 1 + 2 + ... + 100 cents
      expect(data.total).toBe(5050);
    });

    it('refuses a SKU on more than one line, naming each repeated SKU once', () => {
      spec
        .given([])
        .when(
          placeOrder([
            { sku: 'BOOK-1', quantity: 1 },
            { sku: 'PEN-1', quantity: 1 },
            { sku: 'BOOK-1', quantity: 2 },
            { sku: 'PEN-1', quantity: 1 },
            { sku: 'BOOK-1', quantity: 3 },
          ]),
        )
        .thenThrows(
          OrderRuleBroken,
          broke(
            'DUPLICATE_SKU',
            { skus: ['BOOK-1', 'PEN-1'] },
            'Each SKU may appear on one line only; repeated: BOOK-1, PEN-1.',
          ),
        );
    });

    it('refuses SKUs missing from the catalogue, naming all of them in request order', () => {
      spec
        .given([])
        .when(
          placeOrder([
            { sku: 'X-2', quantity: 1 },
            { sku: 'BOOK-1', quantity: 1 },
            { sku: 'X-1', quantity: 1 },
          ]),
        )
        .thenThrows(
          OrderRuleBroken,
          broke('UNKNOWN_SKUS', { skus: ['X-2', 'X-1'] }, 'Unknown SKUs: X-2, X-1.'),
        );
    });

    it('refuses lines priced in different currencies, naming each currency once', () => {
      spec
        .given([])
        .when(
          placeOrder([
            { sku: 'BOOK-1', quantity: 1 },
            { sku: 'MUG-US', quantity: 1 },
            { sku: 'PEN-1', quantity: 1 },
          ]),
        )
        .thenThrows(
          OrderRuleBroken,
          broke(
            'MIXED_CURRENCIES',
            { currencies: ['EUR', 'USD'] },
            'All lines of an order must be priced in one currency, but they are priced in EUR, USD.',
          ),
        );
    });

    it('refuses to place an order that already exists', () => {
      spec
        .given([placed])
        .when(placeOrder([{ sku: 'BOOK-1', quantity: 1 }]))
        .thenThrows(
          OrderRuleBroken,
          broke('ORDER_EXISTS', { orderId, status: 'PENDING' }, 'Order order-1 already exists.'),
        );
    });

    it('refuses to reuse the id of an order that has ended', () => {
      spec
        .given([placed, cancelled])
        .when(placeOrder([{ sku: 'BOOK-1', quantity: 1 }]))
        .thenThrows(OrderRuleBroken, broke('ORDER_EXISTS', { orderId, status: 'CANCELLED' }));
    });
  });

  describe('ConfirmOrder', () => {
    it('confirms a pending order', () => {
      spec
        .given([placed])
        .when(confirmOrder)
        .then([
          { type: 'OrderConfirmed', data: { orderId, confirmedAt: '2026-01-02T03:04:05.000Z' } },
        ]);
    });

    it('does nothing when the order is already confirmed', () => {
      spec.given([placed, confirmed]).when(confirmOrder).thenNothingHappens();
    });

    it('refuses an order that does not exist', () => {
      spec
        .given([])
        .when(confirmOrder)
        .thenThrows(
          OrderRuleBroken,
          broke('ORDER_NOT_FOUND', { orderId }, 'Order order-1 does not exist.'),
        );
    });

    it('refuses a rejected order', () => {
      spec
        .given([placed, rejected])
        .when(confirmOrder)
        .thenThrows(
          OrderRuleBroken,
          broke(
            'ORDER_IS_FINAL',
            { orderId, status: 'REJECTED' },
            'Order order-1 is rejected and can no longer be confirmed.',
          ),
        );
    });

    it('refuses a cancelled order', () => {
      spec
        .given([placed, cancelled])
        .when(confirmOrder)
        .thenThrows(OrderRuleBroken, broke('ORDER_IS_FINAL', { orderId, status: 'CANCELLED' }));
    });
  });

  describe('RejectOrder', () => {
    it('rejects a pending order, keeping the reason and the short lines', () => {
      spec
        .given([placed])
        .when(rejectOrder)
        .then([
          {
            type: 'OrderRejected',
            data: {
              orderId,
              reason: 'OUT_OF_STOCK',
              shortLines: [{ sku: 'BOOK-1', requested: 2, available: 1 }],
              rejectedAt: '2026-01-02T03:04:05.000Z',
            },
          },
        ]);
    });

    it('rejects a pending order whose reservation timed out', () => {
      spec
        .given([placed])
        .when({
          type: 'RejectOrder',
          data: { orderId, reason: 'RESERVATION_TIMEOUT', shortLines: [], now },
        })
        .then([
          {
            type: 'OrderRejected',
            data: {
              orderId,
              reason: 'RESERVATION_TIMEOUT',
              shortLines: [],
              rejectedAt: '2026-01-02T03:04:05.000Z',
            },
          },
        ]);
    });

    it('does nothing when the order is already rejected', () => {
      spec.given([placed, rejected]).when(rejectOrder).thenNothingHappens();
    });

    it('refuses an order that does not exist', () => {
      spec
        .given([])
        .when(rejectOrder)
        .thenThrows(OrderRuleBroken, broke('ORDER_NOT_FOUND', { orderId }));
    });

    it('refuses a cancelled order', () => {
      spec
        .given([placed, cancelled])
        .when(rejectOrder)
        .thenThrows(
          OrderRuleBroken,
          broke(
            'ORDER_IS_FINAL',
            { orderId, status: 'CANCELLED' },
            'Order order-1 is cancelled and can no longer be rejected.',
          ),
        );
    });

    it('refuses a confirmed order, which is no longer pending', () => {
      spec
        .given([placed, confirmed])
        .when(rejectOrder)
        .thenThrows(
          OrderRuleBroken,
          broke(
            'NOT_PENDING',
            { orderId, status: 'CONFIRMED' },
            'Order order-1 is confirmed; only a pending order can be rejected.',
          ),
        );
    });
  });

  describe('CancelOrder', () => {
    it('cancels a pending order', () => {
      spec
        .given([placed])
        .when(cancelOrder)
        .then([
          {
            type: 'OrderCancelled',
            data: {
              orderId,
              reason: 'Changed my mind',
              cancelledAt: '2026-01-02T03:04:05.000Z',
              previousStatus: 'PENDING',
            },
          },
        ]);
    });

    it('cancels a confirmed order, recording that it was confirmed', () => {
      spec
        .given([placed, confirmed])
        .when(cancelOrder)
        .then([
          {
            type: 'OrderCancelled',
            data: {
              orderId,
              reason: 'Changed my mind',
              cancelledAt: '2026-01-02T03:04:05.000Z',
              previousStatus: 'CONFIRMED',
            },
          },
        ]);
    });

    it('refuses an order that does not exist', () => {
      spec
        .given([])
        .when(cancelOrder)
        .thenThrows(OrderRuleBroken, broke('ORDER_NOT_FOUND', { orderId }));
    });

    it('refuses a rejected order', () => {
      spec
        .given([placed, rejected])
        .when(cancelOrder)
        .thenThrows(OrderRuleBroken, broke('ORDER_IS_FINAL', { orderId, status: 'REJECTED' }));
    });

    it('refuses to cancel an order twice', () => {
      spec
        .given([placed, cancelled])
        .when(cancelOrder)
        .thenThrows(
          OrderRuleBroken,
          broke(
            'ORDER_IS_FINAL',
            { orderId, status: 'CANCELLED' },
            'Order order-1 is cancelled and can no longer be cancelled.',
          ),
        );
    });
  });
});

describe('Order evolve', () => {
  const fold = (events: OrderEvent[]): Order => events.reduce(evolve, initialOrder);

  it('starts with no order', () => {
    expect(fold([])).toEqual({ status: 'NONE' });
  });

  it('holds a placed order as pending, with its lines and total', () => {
    expect(fold([placed])).toEqual({
      status: 'PENDING',
      orderId,
      customerId,
      lines: placed.data.lines,
      total: 3097,
      currency: 'EUR',
      placedAt: '2026-01-01T10:00:00.000Z',
    });
  });

  it('confirms a placed order, keeping what was ordered', () => {
    expect(fold([placed, confirmed])).toEqual({ ...fold([placed]), status: 'CONFIRMED' });
  });

  it('records why and which lines when an order is rejected', () => {
    expect(fold([placed, rejected])).toMatchObject({
      status: 'REJECTED',
      reason: 'OUT_OF_STOCK',
      shortLines: [{ sku: 'PEN-1', requested: 3, available: 0 }],
      total: 3097,
    });
  });

  it('records why a confirmed order was cancelled', () => {
    const confirmedThenCancelled: OrderCancelled = {
      ...cancelled,
      data: { ...cancelled.data, previousStatus: 'CONFIRMED' },
    };
    expect(fold([placed, confirmed, confirmedThenCancelled])).toMatchObject({
      status: 'CANCELLED',
      reason: 'Ordered by mistake',
      lines: placed.data.lines,
    });
  });

  it('returns a new state and leaves the one it was given untouched', () => {
    const pending = Object.freeze(fold([placed]));
    const next = evolve(pending, confirmed);
    expect(next).not.toBe(pending);
    expect(pending.status).toBe('PENDING');
  });

  it('leaves an unplaced order alone when a later event arrives without OrderPlaced', () => {
    expect(fold([confirmed])).toEqual({ status: 'NONE' });
  });
});

describe('isTerminal', () => {
  it.each([
    ['NONE', false],
    ['PENDING', false],
    ['CONFIRMED', false],
    ['REJECTED', true],
    ['CANCELLED', true],
  ] as const)('says %s is final: %p', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });
});
