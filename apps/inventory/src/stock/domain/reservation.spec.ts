import { describe, expect, it } from '@jest/globals';
import { decideRelease, decideReservation, type ReservationState } from './reservation.js';

const none: ReservationState = { status: 'NONE' };
const mug = (quantity: number) => ({ sku: 'MUG', quantity });
const coffee = (quantity: number) => ({ sku: 'COFFEE', quantity });

describe('reserving stock for a placed order', () => {
  it('reserves every line when each is covered, to the last unit', () => {
    expect(
      decideReservation(
        none,
        [mug(2), coffee(5)],
        [
          { sku: 'MUG', available: 2 },
          { sku: 'COFFEE', available: 9 },
        ],
      ),
    ).toEqual({ outcome: 'reserve', lines: [mug(2), coffee(5)] });
  });

  it('refuses the whole order when any line is short, listing only the short lines', () => {
    expect(
      decideReservation(
        none,
        [mug(3), coffee(1)],
        [
          { sku: 'MUG', available: 2 },
          { sku: 'COFFEE', available: 9 },
        ],
      ),
    ).toEqual({ outcome: 'refuse', shortLines: [{ sku: 'MUG', requested: 3, available: 2 }] });
  });

  it('counts an SKU the inventory does not stock as none available', () => {
    expect(decideReservation(none, [{ sku: 'GHOST', quantity: 1 }], [])).toEqual({
      outcome: 'refuse',
      shortLines: [{ sku: 'GHOST', requested: 1, available: 0 }],
    });
  });

  it('never reserves an order twice, nor one already refused', () => {
    const stock = [{ sku: 'MUG', available: 10 }];
    expect(
      decideReservation({ status: 'RESERVED', lines: [mug(1)] }, [mug(1)], stock).outcome,
    ).toBe('ignore');
    expect(decideReservation({ status: 'REFUSED', shortLines: [] }, [mug(1)], stock).outcome).toBe(
      'ignore',
    );
    expect(
      decideReservation({ status: 'RELEASED', lines: [mug(1)] }, [mug(1)], stock).outcome,
    ).toBe('ignore');
  });

  it('does not reserve an order whose cancellation arrived first', () => {
    expect(
      decideReservation({ status: 'VOIDED' }, [mug(1)], [{ sku: 'MUG', available: 10 }]),
    ).toEqual({
      outcome: 'ignore',
      why: 'the order was cancelled or rejected before it was placed',
    });
  });
});

describe('releasing stock for a cancelled or rejected order', () => {
  it('releases exactly what the reservation holds', () => {
    expect(decideRelease({ status: 'RESERVED', lines: [mug(2)] }, 'ORDER_CANCELLED')).toEqual({
      outcome: 'release',
      lines: [mug(2)],
      reason: 'ORDER_CANCELLED',
    });
  });

  it('releases only once', () => {
    expect(decideRelease({ status: 'RELEASED', lines: [mug(2)] }, 'ORDER_CANCELLED').outcome).toBe(
      'ignore',
    );
  });

  it('has nothing to release for a refused order', () => {
    expect(decideRelease({ status: 'REFUSED', shortLines: [] }, 'ORDER_REJECTED').outcome).toBe(
      'ignore',
    );
  });

  it('voids an order it has not seen placed, remembering the cancellation', () => {
    expect(decideRelease(none, 'ORDER_CANCELLED')).toEqual({ outcome: 'void' });
    expect(decideRelease({ status: 'VOIDED' }, 'ORDER_REJECTED').outcome).toBe('ignore');
  });
});
