import { describe, expect, it } from '@jest/globals';
import { UnsettledDeliveries } from './unsettled-deliveries.js';

const delivered = (...tags: number[]) => {
  const unsettled = new UnsettledDeliveries();
  for (const tag of tags) unsettled.received(tag);
  return unsettled;
};

describe('acknowledging a batch of deliveries', () => {
  it('acknowledges a batch holding every unsettled delivery up to its last with one ack', () => {
    expect(delivered(1, 2, 3, 4, 5).settle([3, 1, 2])).toEqual({ upTo: 3 });
  });

  it('acknowledges one by one when a delivery outside the batch lies among its tags', () => {
    // 2 is still on its way to the dead-letter queue.
    expect(delivered(1, 2, 3, 4).settle([1, 3, 4])).toEqual({ each: [1, 3, 4] });
  });

  it('acknowledges one by one when a delivery outside the batch lies below all its tags', () => {
    // 1 is still on its way to a retry queue: a multiple ack up to 3 would acknowledge it.
    expect(delivered(1, 2, 3).settle([2, 3])).toEqual({ each: [2, 3] });
  });

  it('lets the next batch go with one ack once what lay among it is settled', () => {
    const unsettled = delivered(1, 2, 3, 4, 5, 6);
    expect(unsettled.settle([2])).toEqual({ each: [2] });
    expect(unsettled.settle([1, 3])).toEqual({ upTo: 3 });
    expect(unsettled.settle([4, 5])).toEqual({ upTo: 5 });
  });
});
