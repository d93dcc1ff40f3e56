import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type {
  CloudEvent,
  InventoryReleasedV1,
  InventoryReservationFailedV1,
  InventoryReservedV1,
} from '@ordering/contracts';
import type { MessageEffect } from '@ordering/messaging';
import { currentTraceparent } from '@ordering/platform';
import { FulfilmentPolicy } from './fulfilment-policy.js';
import type { FulfilmentTrigger } from './domain/fulfilment.js';

// Taken while the message's effect runs, inside its span: the saga's events continue its trace.
const causedBy = (event: CloudEvent) => ({
  correlationId: event.correlationid,
  causationId: event.id,
  userId: 'inventory',
  traceparent: currentTraceparent(event.traceparent),
});

/**
 * The inventory's answers, fed to the saga in the consumer's transaction (with its inbox row): a
 * batch's answers are decided together (see FulfilmentPolicy.gather).
 */
@Controller()
export class InventoryAnswersConsumer {
  constructor(private readonly policy: FulfilmentPolicy) {}

  @EventPattern<string>('inventory.reserved')
  reserved(@Payload() event: CloudEvent<InventoryReservedV1>): MessageEffect {
    return this.step(event, { type: 'StockReserved' });
  }

  @EventPattern<string>('inventory.reservation-failed')
  failed(@Payload() event: CloudEvent<InventoryReservationFailedV1>): MessageEffect {
    return this.step(event, { type: 'StockShort', shortLines: event.data.shortLines });
  }

  @EventPattern<string>('inventory.released')
  released(@Payload() event: CloudEvent<InventoryReleasedV1>): MessageEffect {
    return this.step(event, { type: 'StockReleased' });
  }

  private step(event: CloudEvent<{ orderId: string }>, trigger: FulfilmentTrigger): MessageEffect {
    return async (tx) => this.policy.gather(tx, event.data.orderId, trigger, causedBy(event));
  }
}
