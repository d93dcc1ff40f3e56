import { randomUUID } from 'node:crypto';
import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  createEvent,
  type Contract,
  inventoryReleasedV1,
  inventoryReservationFailedV1,
  inventoryReservedV1,
  type CloudEvent,
  type OrderCancelledV1,
  type OrderPlacedV1,
  type OrderRejectedV1,
} from '@ordering/contracts';
import { addToOutbox, type MessageEffect, type OutboxMessage } from '@ordering/messaging';
import { Clock, currentTraceparent, type Transaction } from '@ordering/platform';
import {
  decideRelease,
  decideReservation,
  type ReleaseReason,
  type RequestedLine,
} from './domain/reservation.js';
import { reservations, type ReservationRow, type StockChange } from './reservation-store.js';

type StockRequest = (
  | { kind: 'reserve'; event: CloudEvent<OrderPlacedV1> }
  | { kind: 'release'; event: CloudEvent<{ orderId: string }>; reason: ReleaseReason }
) & {
  /** Where its answer belongs in the trace: taken in its message's span, settled later. */
  traceparent?: string;
};

/**
 * Reserves stock for placed orders and releases it for cancelled or rejected ones. The requests
 * of a consumer batch are gathered and settled together just before its transaction commits,
 * with their outgoing events (outbox) and inbox rows: the orders' locks and states, then the
 * products' (locked in SKU order), decisions in delivery order against a running balance, and
 * one write each for the stock, the reservations and the outbox.
 */
@Controller()
export class StockConsumer {
  private readonly logger = new Logger(StockConsumer.name);

  constructor(private readonly clock: Clock) {}

  @EventPattern<string>('order.placed')
  reserve(@Payload() event: CloudEvent<OrderPlacedV1>): MessageEffect {
    return async (tx) => this.gather(tx, { kind: 'reserve', event });
  }

  @EventPattern<string>('order.cancelled')
  release(@Payload() event: CloudEvent<OrderCancelledV1>): MessageEffect {
    return async (tx) => this.gather(tx, { kind: 'release', event, reason: 'ORDER_CANCELLED' });
  }

  // A rejected order holds stock only when its reservation came too late (the saga's deadline).
  @EventPattern<string>('order.rejected')
  releaseRejected(@Payload() event: CloudEvent<OrderRejectedV1>): MessageEffect {
    return async (tx) => this.gather(tx, { kind: 'release', event, reason: 'ORDER_REJECTED' });
  }

  private gather(tx: Transaction, request: StockRequest): void {
    tx.gather<StockRequest>(this, (requests) => this.settle(tx, requests)).push({
      ...request,
      traceparent: currentTraceparent(request.event.traceparent),
    });
  }

  private async settle(tx: Transaction, requests: readonly StockRequest[]): Promise<void> {
    const orderIds = requests.map((request) => request.event.data.orderId);
    await reservations.lockOrders(tx, orderIds);
    const states = await reservations.states(tx, orderIds);
    const stateOf = (orderId: string) => states.get(orderId) ?? { status: 'NONE' as const };

    const skus = new Set<string>();
    for (const request of requests) {
      const state = stateOf(request.event.data.orderId);
      const lines =
        request.kind === 'reserve'
          ? request.event.data.lines
          : state.status === 'RESERVED'
            ? state.lines
            : [];
      for (const line of lines) skus.add(line.sku);
    }
    const stock = await reservations.lockStock(tx, [...skus]);
    const available = new Map(stock.map((level) => [level.sku, level.available]));
    const changes = new Map<string, StockChange>();
    const move = (lines: readonly RequestedLine[], sign: 1 | -1) => {
      for (const { sku, quantity } of lines) {
        available.set(sku, available.get(sku)! + sign * quantity);
        const change = changes.get(sku) ?? { sku, available: 0, reserved: 0 };
        change.available += sign * quantity;
        change.reserved -= sign * quantity;
        changes.set(sku, change);
      }
    };

    const written = new Map<string, ReservationRow>();
    const outgoing: OutboxMessage[] = [];
    const now = this.clock.now().toISOString();
    for (const request of requests) {
      const { orderId } = request.event.data;
      const settled = (state: ReservationRow['state'], message?: OutboxMessage) => {
        written.set(orderId, { orderId, state });
        if (message) outgoing.push(message);
      };
      const state = written.get(orderId)?.state ?? stateOf(orderId);
      const decision =
        request.kind === 'reserve'
          ? decideReservation(
              state,
              request.event.data.lines.map(({ sku, quantity }) => ({ sku, quantity })),
              request.event.data.lines.flatMap(({ sku }) =>
                available.has(sku) ? [{ sku, available: available.get(sku)! }] : [],
              ),
            )
          : decideRelease(state, request.reason);
      switch (decision.outcome) {
        case 'reserve': {
          const { lines } = decision;
          move(lines, -1);
          const data = { orderId, lines, reservedAt: now };
          settled({ status: 'RESERVED', lines }, this.outgoing(inventoryReservedV1, request, data));
          break;
        }
        case 'refuse': {
          const { shortLines } = decision;
          const data = { orderId, shortLines, failedAt: now };
          settled(
            { status: 'REFUSED', shortLines },
            this.outgoing(inventoryReservationFailedV1, request, data),
          );
          break;
        }
        case 'release': {
          const { lines, reason } = decision;
          move(lines, 1);
          const data = { orderId, lines, reason, releasedAt: now };
          settled({ status: 'RELEASED', lines }, this.outgoing(inventoryReleasedV1, request, data));
          break;
        }
        case 'void':
          settled({ status: 'VOIDED' });
          break;
        case 'ignore':
          this.logger.log(`Order ${orderId}: ${request.kind} ignored: ${decision.why}`);
      }
    }
    await reservations.changeStock(tx, [...changes.values()]);
    await reservations.record(tx, [...written.values()]);
    await addToOutbox(tx, outgoing);
  }

  /** A message of `contract` about the order, the answer to `request`, for the outbox. */
  private outgoing<T extends { orderId: string }>(
    contract: Contract<T>,
    { event: cause, traceparent }: StockRequest,
    data: T,
  ): OutboxMessage {
    return {
      exchange: contract.exchange,
      event: createEvent(contract, {
        id: randomUUID(),
        subject: data.orderId,
        time: this.clock.now().toISOString(),
        correlationid: cause.correlationid,
        causationid: cause.id,
        traceparent,
        data,
      }),
    };
  }
}
