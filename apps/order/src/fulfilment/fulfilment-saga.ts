import { Injectable, Logger } from '@nestjs/common';
import {
  EventStore,
  handleCommand,
  type EventMetadata,
  type RecordedEvent,
} from '@ordering/event-store';
import { Clock, type Transaction } from '@ordering/platform';
import { orderDecider } from '../ordering/domain/order.decider.js';
import { ORDER_SNAPSHOTS, orderStreamId } from '../ordering/order-stream.js';
import { decideFulfilment, type FulfilmentTrigger } from './domain/fulfilment.js';

/**
 * Applies one saga step in the caller's transaction: load the order, decide, append. Idempotent:
 * a repeat decides nothing. Returns what it appended.
 */
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
    tx: Transaction,
  ): Promise<readonly RecordedEvent[]> {
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
    return events;
  }
}
