import { Injectable, Logger } from '@nestjs/common';
import type { EventMetadata, RecordedEvent } from '@ordering/event-store';
import { Clock, type Transaction } from '@ordering/platform';
import type { OrderEvent } from '../ordering/domain/order.js';
import { OrderCommands } from '../ordering/order-stream.js';
import { decideFulfilment, type FulfilmentTrigger } from './domain/fulfilment.js';

interface Step {
  orderId: string;
  trigger: FulfilmentTrigger;
  metadata: EventMetadata;
}

/**
 * The fulfilment saga's policy: what happens to an order when the inventory answers or its
 * deadline passes (decideFulfilment), applied in the caller's transaction through the order's
 * own handler. It keeps no state of its own: the saga's state is the order's stream, so a repeat
 * decides nothing and a restart loses nothing.
 */
@Injectable()
export class FulfilmentPolicy {
  private readonly logger = new Logger(FulfilmentPolicy.name);

  constructor(
    private readonly orders: OrderCommands,
    private readonly clock: Clock,
  ) {}

  /**
   * Adds a step to those of `tx` (a consumer's batch), all decided together just before it
   * commits: one read of every order they touch, the decisions in the order the steps came (an
   * order's second step sees what its first decided), one append for all. The caller holds the
   * orders' stream locks (OrderStreamLocks), so no other writer can get in between.
   */
  gather(tx: Transaction, orderId: string, trigger: FulfilmentTrigger, metadata: EventMetadata) {
    tx.gather<Step>(this, (steps) => this.decide(tx, steps)).push({ orderId, trigger, metadata });
  }

  /** Decides one step now, in the caller's transaction; a lost race decides again. */
  async handle(
    orderId: string,
    trigger: FulfilmentTrigger,
    metadata: EventMetadata,
    tx: Transaction,
  ): Promise<readonly RecordedEvent<OrderEvent>[]> {
    const { events } = await this.orders.handle(
      orderId,
      (state) => decideFulfilment(trigger, state, this.clock.now()) ?? undefined,
      { metadata, tx },
    );
    if (events.length === 0) this.logger.debug(`Order ${orderId}: ${trigger.type} changes nothing`);
    return events;
  }

  private async decide(tx: Transaction, steps: readonly Step[]): Promise<void> {
    const now = this.clock.now();
    await this.orders.handleMany(
      steps.map(({ orderId, trigger, metadata }) => ({
        id: orderId,
        command: (state) => decideFulfilment(trigger, state, now) ?? undefined,
        metadata,
      })),
      { tx },
    );
  }
}
