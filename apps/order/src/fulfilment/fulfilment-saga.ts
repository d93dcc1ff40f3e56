import { Injectable, Logger } from '@nestjs/common';
import {
  aggregateStream,
  EventStore,
  handleCommand,
  type EventMetadata,
} from '@ordering/event-store';
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
    const streamId = orderStreamId(orderId);
    const { state } = await aggregateStream(this.store, streamId, orderDecider, {
      snapshots: ORDER_SNAPSHOTS,
      tx,
    });
    const command = decideFulfilment(trigger, state, this.clock.now());
    if (!command) {
      this.logger.debug(`Order ${orderId}: ${trigger.type} changes nothing (${state.status})`);
      return;
    }
    await handleCommand(this.store, streamId, orderDecider, command, {
      metadata,
      snapshots: ORDER_SNAPSHOTS,
      tx,
    });
  }
}
