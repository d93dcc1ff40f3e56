import { BaseRpcContext } from '@nestjs/microservices';
import type { CloudEvent } from '@ordering/contracts';
import type { ConsumeMessage } from 'amqplib';
import type { EntityManager } from 'typeorm';

type Args = [message: ConsumeMessage, tx: EntityManager, event: CloudEvent, attempt: number];

/**
 * What an `@EventPattern` handler gets with `@Ctx()`: the transaction its effect must use (the
 * inbox row commits in it, which is what makes the handler idempotent), the whole CloudEvent,
 * and which attempt this is.
 */
export class EventContext extends BaseRpcContext<Args> {
  get message(): ConsumeMessage {
    return this.args[0];
  }

  get tx(): EntityManager {
    return this.args[1];
  }

  get event(): CloudEvent {
    return this.args[2];
  }

  get attempt(): number {
    return this.args[3];
  }
}
