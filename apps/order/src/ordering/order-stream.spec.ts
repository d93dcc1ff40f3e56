import { describe, expect, it } from '@jest/globals';
import { orderEventTypes } from './order-stream.js';

describe('orderEventTypes', () => {
  it('lists the stored name of every order event', () => {
    // These names are in the event store: changing one needs an upcaster, not an edit here.
    expect([...orderEventTypes.types].sort()).toEqual([
      'OrderCancelled',
      'OrderConfirmed',
      'OrderPlaced',
      'OrderRejected',
    ]);
  });
});
