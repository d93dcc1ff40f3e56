import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { EventMetadata } from '@ordering/event-store';
import {
  Clock,
  Database,
  IdempotencyKeys,
  type IdempotentRequest,
  type Sql,
  type StoredResponse,
} from '@ordering/platform';
import { orderDecider, type CatalogueEntry, type PlaceOrder } from '../domain/order.decider.js';
import { initialOrder } from '../domain/order.js';
import { OrderCommands } from '../order-stream.js';

/** What `POST /orders` answers, and what a retry with its Idempotency-Key gets again. */
export function placementResponse(orderId: string, version: number): StoredResponse {
  return {
    status: 202,
    headers: { location: `/orders/${orderId}`, etag: `"${version}"` },
    body: { orderId, status: 'PENDING' },
  };
}

export class PlaceOrderCommand extends Command<{ version: number }> {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly items: { sku: string; quantity: number }[],
    readonly metadata: EventMetadata,
    /** Its response is recorded in the placement's own transaction. */
    readonly idempotency?: IdempotentRequest,
  ) {
    super();
  }
}

interface Waiting {
  command: PlaceOrderCommand;
  resolve: (placed: { version: number }) => void;
  reject: (error: unknown) => void;
}

/** The most placements one transaction takes; more wait for the next. */
const MOST_IN_A_GROUP = 128;

/**
 * Places orders with group commit: while one transaction is in flight, placements that arrive
 * wait for it and then go together in the next (no timer: alone, a placement goes at once).
 * Each is answered after its own transaction has committed. A group costs a fixed number of
 * statements: the prices, one append of every order, the read models and outbox rows, and the
 * idempotency records. A placement the order refuses (a 422) is decided before the group is
 * written and answered alone, so it never sinks the others; a group that fails is placed again
 * one by one, each in a transaction of its own.
 */
@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand> {
  private readonly waiting: Waiting[] = [];
  private committing = false;

  constructor(
    private readonly orders: OrderCommands,
    private readonly database: Database,
    private readonly idempotencyKeys: IdempotencyKeys,
    private readonly clock: Clock,
  ) {}

  execute(command: PlaceOrderCommand): Promise<{ version: number }> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ command, resolve, reject });
      if (!this.committing) void this.commitWaiting();
    });
  }

  private async commitWaiting(): Promise<void> {
    this.committing = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MOST_IN_A_GROUP);
        if (group.length === 1 || !(await this.placeTogether(group))) {
          await Promise.all(group.map((waiting) => this.placeAlone(waiting)));
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /** One transaction for the whole group; false (nothing committed) if it failed. */
  private async placeTogether(group: readonly Waiting[]): Promise<boolean> {
    const answers = new Map<Waiting, { version: number } | { refused: unknown }>();
    try {
      await this.database.transaction(
        async (tx) => {
          const prices = await pricesOf(
            tx,
            group.flatMap((w) => w.command.items.map((i) => i.sku)),
          );
          const placing = group.filter((waiting) => {
            try {
              orderDecider.decide(this.placeOrder(waiting.command, prices), initialOrder);
              return true;
            } catch (refused) {
              answers.set(waiting, { refused });
              return false;
            }
          });
          const placed = await this.orders.handleMany(
            placing.map(({ command }) => ({
              id: command.orderId,
              command: this.placeOrder(command, prices),
              metadata: command.metadata,
            })),
            // The order ids are new unless a request is a retry of the same Idempotency-Key: then
            // the append conflicts, the group fails and its placements go one by one.
            { tx, expectNew: true },
          );
          placing.forEach((waiting, index) =>
            answers.set(waiting, { version: placed[index].version }),
          );
          await this.idempotencyKeys.recordAll(
            tx,
            placing.flatMap(({ command }, index) =>
              command.idempotency
                ? [
                    {
                      request: command.idempotency,
                      response: placementResponse(command.orderId, placed[index].version),
                    },
                  ]
                : [],
            ),
          );
        },
        { label: 'place orders' },
      );
    } catch {
      return false;
    }
    for (const waiting of group) {
      const answer = answers.get(waiting)!;
      if ('refused' in answer) waiting.reject(answer.refused);
      else waiting.resolve(answer);
    }
    return true;
  }

  private async placeAlone({ command, resolve, reject }: Waiting): Promise<void> {
    try {
      const { orderId, metadata, idempotency } = command;
      const prices = await pricesOf(
        this.database,
        command.items.map((item) => item.sku),
      );
      const { version } = await this.orders.handle(orderId, this.placeOrder(command, prices), {
        metadata,
        // The order id is new unless this is a retry of the same Idempotency-Key: skip reading.
        expectNew: true,
        inTransaction: async (tx, recorded) => {
          if (!idempotency) return;
          const placed = placementResponse(orderId, recorded.at(-1)!.streamPosition);
          await this.idempotencyKeys.record(tx, idempotency, placed);
        },
      });
      resolve({ version });
    } catch (error) {
      reject(error);
    }
  }

  private placeOrder(
    { orderId, customerId, items }: PlaceOrderCommand,
    catalogue: ReadonlyMap<string, CatalogueEntry>,
  ): PlaceOrder {
    return {
      type: 'PlaceOrder',
      data: { orderId, customerId, items, catalogue, now: this.clock.now() },
    };
  }
}

/** What the local catalogue replica says the SKUs cost. */
async function pricesOf(sql: Sql, skus: readonly string[]): Promise<Map<string, CatalogueEntry>> {
  const rows = await sql.query<{ sku: string; price: string; currency: string }>(
    'SELECT sku, price, currency FROM catalogue_products WHERE sku = ANY($1::text[])',
    [[...new Set(skus)]],
  );
  return new Map(
    rows.map((row) => [row.sku, { price: Number(row.price), currency: row.currency }]),
  );
}
