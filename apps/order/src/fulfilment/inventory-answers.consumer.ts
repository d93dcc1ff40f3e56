import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type {
  CloudEvent,
  InventoryReleasedV1,
  InventoryReservationFailedV1,
  InventoryReservedV1,
} from '@ordering/contracts';
import type { EventContext } from '@ordering/messaging';
import { FulfilmentSaga } from './fulfilment-saga.js';

const causedBy = (event: CloudEvent) => ({
  correlationId: event.correlationid,
  causationId: event.id,
  userId: 'inventory',
  ...(event.traceparent ? { traceparent: event.traceparent } : {}),
});

/** The inventory's answers, fed to the saga in the consumer's transaction (with its inbox row). */
@Controller()
export class InventoryAnswersConsumer {
  constructor(private readonly saga: FulfilmentSaga) {}

  @EventPattern<string>('inventory.reserved')
  reserved(@Payload() event: CloudEvent<InventoryReservedV1>, @Ctx() { tx }: EventContext) {
    return this.saga.handle(event.data.orderId, { type: 'StockReserved' }, causedBy(event), tx);
  }

  @EventPattern<string>('inventory.reservation-failed')
  failed(@Payload() event: CloudEvent<InventoryReservationFailedV1>, @Ctx() { tx }: EventContext) {
    return this.saga.handle(
      event.data.orderId,
      { type: 'StockShort', shortLines: event.data.shortLines },
      causedBy(event),
      tx,
    );
  }

  @EventPattern<string>('inventory.released')
  released(@Payload() event: CloudEvent<InventoryReleasedV1>, @Ctx() { tx }: EventContext) {
    return this.saga.handle(event.data.orderId, { type: 'StockReleased' }, causedBy(event), tx);
  }
}
