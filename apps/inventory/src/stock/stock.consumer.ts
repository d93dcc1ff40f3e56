import { randomUUID } from 'node:crypto';
import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  createEvent,
  Exchanges,
  inventoryReleasedV1,
  inventoryReservationFailedV1,
  inventoryReservedV1,
  type CloudEvent,
  type OrderCancelledV1,
  type OrderPlacedV1,
  type OrderRejectedV1,
} from '@ordering/contracts';
import { addToOutbox, type MessageEffect } from '@ordering/messaging';
import { Clock, type Transaction } from '@ordering/platform';
import { decideRelease, decideReservation, type ReleaseReason } from './domain/reservation.js';
import { reservations } from './reservation-store.js';

/**
 * Reserves stock for placed orders and releases it for cancelled or rejected ones. Each handler's
 * effect, its outgoing event (outbox) and its inbox row commit together in the consumer's
 * transaction.
 */
@Controller()
export class StockConsumer {
  private readonly logger = new Logger(StockConsumer.name);

  constructor(private readonly clock: Clock) {}

  @EventPattern<string>('order.placed')
  reserve(@Payload() event: CloudEvent<OrderPlacedV1>): MessageEffect {
    return (tx) => this.reserveFor(event, tx);
  }

  @EventPattern<string>('order.cancelled')
  release(@Payload() event: CloudEvent<OrderCancelledV1>): MessageEffect {
    return (tx) => this.releaseFor(event, tx, 'ORDER_CANCELLED');
  }

  // A rejected order holds stock only when its reservation came too late (the saga's deadline).
  @EventPattern<string>('order.rejected')
  releaseRejected(@Payload() event: CloudEvent<OrderRejectedV1>): MessageEffect {
    return (tx) => this.releaseFor(event, tx, 'ORDER_REJECTED');
  }

  private async reserveFor(event: CloudEvent<OrderPlacedV1>, tx: Transaction) {
    const { orderId, lines } = event.data;
    await reservations.lockOrder(tx, orderId);
    const stock = await reservations.lockStock(tx, [...new Set(lines.map((l) => l.sku))].sort());
    const requested = lines.map(({ sku, quantity }) => ({ sku, quantity }));
    const decision = decideReservation(await reservations.state(tx, orderId), requested, stock);
    const now = this.clock.now().toISOString();

    if (decision.outcome === 'reserve') {
      await reservations.hold(tx, orderId, decision.lines);
      await addToOutbox(tx, [
        this.outgoing(inventoryReservedV1, event, {
          orderId,
          lines: decision.lines,
          reservedAt: now,
        }),
      ]);
    } else if (decision.outcome === 'refuse') {
      await reservations.record(tx, orderId, 'REFUSED', [], decision.shortLines);
      await addToOutbox(tx, [
        this.outgoing(inventoryReservationFailedV1, event, {
          orderId,
          shortLines: decision.shortLines,
          failedAt: now,
        }),
      ]);
    } else if (decision.outcome === 'ignore') {
      this.logger.log(`Order ${orderId} not reserved: ${decision.why}`);
    }
  }

  private async releaseFor(
    event: CloudEvent<{ orderId: string }>,
    tx: Transaction,
    reason: ReleaseReason,
  ) {
    const { orderId } = event.data;
    await reservations.lockOrder(tx, orderId);
    const decision = decideRelease(await reservations.state(tx, orderId), reason);
    if (decision.outcome === 'release') {
      await reservations.giveBack(tx, orderId, decision.lines);
      await addToOutbox(tx, [
        this.outgoing(inventoryReleasedV1, event, {
          orderId,
          lines: decision.lines,
          reason,
          releasedAt: this.clock.now().toISOString(),
        }),
      ]);
    } else if (decision.outcome === 'void') {
      await reservations.record(tx, orderId, 'VOIDED', [], []);
    }
  }

  private outgoing<T>(contract: Parameters<typeof createEvent>[0], cause: CloudEvent, data: T) {
    return {
      exchange: Exchanges.inventory,
      event: createEvent(contract, {
        id: randomUUID(),
        subject: (data as { orderId: string }).orderId,
        time: this.clock.now().toISOString(),
        correlationid: cause.correlationid,
        causationid: cause.id,
        data,
      }),
    };
  }
}
