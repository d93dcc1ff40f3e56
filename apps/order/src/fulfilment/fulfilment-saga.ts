import { Injectable, Logger } from '@nestjs/common';
import { EventStore, handleCommand, type EventMetadata } from '@ordering/event-store';
import { Clock } from '@ordering/platform';
import type { EntityManager } from 'typeorm';
import { orderDecider } from '../ordering/domain/order.decider.js';
import { ORDER_SNAPSHOTS, orderStreamId } from '../ordering/order-stream.js';
import { decideFulfilment, type FulfilmentTrigger } from './domain/fulfilment.js';

/** Applies one saga step: load the order, decide, append. Idempotent: a repeat decides nothing. */
@Injectable()
export class FulfilmentSaga {
  private readonly logger = new Logger(FulfilmentSaga.name);

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async handle(
    orderId: string,
    trigger: FulfilmentTrigger,
    metadata: EventMetadata,
    tx?: EntityManager,
  ): Promise<void> {
    // Decided from the order as it stands when appending: a lost race decides again.
    const { events } = await handleCommand(
      this.store,
      orderStreamId(orderId),
      orderDecider,
      (state) => decideFulfilment(trigger, state, this.clock.now()) ?? undefined,
      { metadata, snapshots: ORDER_SNAPSHOTS, tx },
    );
    if (events.length === 0) {
      this.logger.debug(`Order ${orderId}: ${trigger.type} changes nothing`);
    }
  }
}
