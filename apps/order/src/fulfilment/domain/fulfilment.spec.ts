import { describe, it } from '@jest/globals';
import { policySpecification } from '@ordering/testing';
import type { Order } from '../../ordering/domain/order.js';
import { orderDecider } from '../../ordering/domain/order.decider.js';
import {
  cancelled,
  confirmed,
  now,
  orderId,
  placed,
  rejected,
} from '../../ordering/domain/order.fixtures.js';
import { decideFulfilment, type FulfilmentTrigger } from './fulfilment.js';

// What the policy decides on: the order's state, folded from the shared story's events.
const spec = policySpecification(orderDecider, (trigger: FulfilmentTrigger, order: Order) =>
  decideFulfilment(trigger, order, now),
);

const shortLines = [{ sku: 'MUG', requested: 2, available: 1 }];

describe('the order-fulfilment saga', () => {
  describe('happy path', () => {
    it('confirms a pending order once its stock is reserved', () => {
      spec.given([placed]).when({ type: 'StockReserved' }).then({
        type: 'ConfirmOrder',
        data: { orderId, now },
      });
    });

    it('does nothing when the reservation is heard again', () => {
      spec.given([placed, confirmed]).when({ type: 'StockReserved' }).thenNothingHappens();
    });
  });

  describe('compensation', () => {
    it('rejects a pending order as out of stock, with the short lines', () => {
      spec
        .given([placed])
        .when({ type: 'StockShort', shortLines })
        .then({
          type: 'RejectOrder',
          data: { orderId, reason: 'OUT_OF_STOCK', shortLines, now },
        });
    });

    it('rejects a pending order whose reservation deadline passed', () => {
      spec
        .given([placed])
        .when({ type: 'ReservationDeadlinePassed' })
        .then({
          type: 'RejectOrder',
          data: { orderId, reason: 'RESERVATION_TIMEOUT', shortLines: [], now },
        });
    });

    it('leaves a reservation that arrives after the deadline to the inventory to release', () => {
      spec.given([placed, rejected]).when({ type: 'StockReserved' }).thenNothingHappens();
    });

    it('never confirms a cancelled order, whatever arrives late', () => {
      spec.given([placed, cancelled]).when({ type: 'StockReserved' }).thenNothingHappens();
      spec
        .given([placed, cancelled])
        .when({ type: 'ReservationDeadlinePassed' })
        .thenNothingHappens();
    });

    it('does not reject a confirmed order when a stale deadline or shortage turns up', () => {
      spec
        .given([placed, confirmed])
        .when({ type: 'ReservationDeadlinePassed' })
        .thenNothingHappens();
      spec.given([placed, confirmed]).when({ type: 'StockShort', shortLines }).thenNothingHappens();
    });

    it('takes note of a release and commands nothing', () => {
      spec.given([placed, cancelled]).when({ type: 'StockReleased' }).thenNothingHappens();
    });
  });

  it('ignores news about an order it has never seen placed', () => {
    spec.given([]).when({ type: 'StockReserved' }).thenNothingHappens();
  });
});
