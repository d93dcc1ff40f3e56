import { Injectable, Logger } from '@nestjs/common';
import type { EventMetadata, Handled, RecordedEvent } from '@ordering/event-store';
import { Histogram } from 'prom-client';
import { Clock, type Transaction } from '@ordering/platform';
import type { Order, OrderEvent } from '../ordering/domain/order.js';
import { OrderCommands } from '../ordering/order-stream.js';
import { decideFulfilment, type FulfilmentTrigger } from './domain/fulfilment.js';

const sagaDuration = new Histogram({
  name: 'fulfilment_saga_duration_seconds',
  help: 'From an order placed to the saga ending it, by outcome (confirmed or rejected).',
  labelNames: ['outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
});

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
    const handled = await this.orders.handle(
      orderId,
      (state) => decideFulfilment(trigger, state, this.clock.now()) ?? undefined,
      { metadata, tx },
    );
    this.measure(tx, [handled]);
    const { events } = handled;
    if (events.length === 0) this.logger.debug(`Order ${orderId}: ${trigger.type} changes nothing`);
    return events;
  }

  private async decide(tx: Transaction, steps: readonly Step[]): Promise<void> {
    const now = this.clock.now();
    const handled = await this.orders.handleMany(
      steps.map(({ orderId, trigger, metadata }) => ({
        id: orderId,
        command: (state) => decideFulfilment(trigger, state, now) ?? undefined,
        metadata,
      })),
      { tx },
    );
    this.measure(tx, handled);
  }

  /** Each order this transaction ends, in the saga's duration histogram once it has committed. */
  private measure(tx: Transaction, handled: readonly Handled<Order, OrderEvent>[]): void {
    const ended = handled.flatMap(({ state, events }) =>
      events.length > 0 && (state.status === 'CONFIRMED' || state.status === 'REJECTED')
        ? [state]
        : [],
    );
    if (ended.length === 0) return;
    tx.afterCommit(() => {
      const now = this.clock.now().getTime();
      for (const state of ended) {
        sagaDuration.observe(
          { outcome: state.status.toLowerCase() },
          (now - Date.parse(state.placedAt)) / 1000,
        );
      }
    });
  }
}
