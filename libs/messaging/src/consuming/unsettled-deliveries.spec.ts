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

  it('lets the next batch go with one ack once what lay among it is settled', () => {
    const unsettled = delivered(1, 2, 3, 4, 5, 6);
    unsettled.settle([2]);
    unsettled.settle([1, 3]);
    expect(unsettled.settle([4, 5])).toEqual({ upTo: 5 });
  });

  it('never covers a delivery that came after the batch', () => {
    const unsettled = delivered(1, 2, 3);
    unsettled.settle([1, 2]);
    unsettled.received(4);
    expect(unsettled.settle([3])).toEqual({ upTo: 3 });
    expect(unsettled.settle([4])).toEqual({ upTo: 4 });
  });
});
