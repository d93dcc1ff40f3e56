import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { EventMetadata } from '@ordering/event-store';
import {
  type Caller,
  Clock,
  IdempotencyKeys,
  type IdempotentRequest,
  type StoredResponse,
} from '@ordering/platform';
import { OrderRuleBroken } from '../domain/order-rule-broken.js';
import { orderAccess } from '../order-access.js';
import { OrderCommands } from '../order-stream.js';

/** What `POST /orders/:id/cancel` answers, and what a retry with its Idempotency-Key gets again. */
export function cancellationResponse(orderId: string, version: number): StoredResponse {
  return {
    status: 202,
    headers: { etag: `"${version}"` },
    body: { orderId, status: 'CANCELLED', version },
  };
}

export class CancelOrderCommand extends Command<{ version: number }> {
  constructor(
    readonly orderId: string,
    /** Who asks: only the order's customer may cancel it (orderAccess). */
    readonly caller: Caller,
    readonly reason: string,
    /** From `If-Match`: cancel only if the order is still at this version. */
    readonly expectedVersion: number | undefined,
    readonly metadata: EventMetadata,
    /** Its response is recorded in the cancellation's own transaction. */
    readonly idempotency?: IdempotentRequest,
  ) {
    super();
  }
}

@CommandHandler(CancelOrderCommand)
export class CancelOrderHandler implements ICommandHandler<CancelOrderCommand> {
  constructor(
    private readonly orders: OrderCommands,
    private readonly idempotencyKeys: IdempotencyKeys,
    private readonly clock: Clock,
  ) {}

  async execute(command: CancelOrderCommand) {
    const { orderId, caller, reason, expectedVersion, metadata, idempotency } = command;
    const { version } = await this.orders.handle(
      orderId,
      // Ownership is checked on the order as the command's transaction loads it.
      (order) => {
        if (order.status === 'NONE' || !orderAccess.mayCancel(caller, order.customerId)) {
          throw OrderRuleBroken.orderNotFound(orderId);
        }
        return { type: 'CancelOrder', data: { orderId, reason, now: this.clock.now() } };
      },
      {
        metadata,
        expectedVersion,
        inTransaction: async (tx, recorded) => {
          if (!idempotency) return;
          const cancelled = cancellationResponse(orderId, recorded.at(-1)!.streamPosition);
          await this.idempotencyKeys.record(tx, idempotency, cancelled);
        },
      },
    );
    return { version };
  }
}
