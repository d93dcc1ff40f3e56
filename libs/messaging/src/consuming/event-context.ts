import { BaseRpcContext } from '@nestjs/microservices';
import type { CloudEvent } from '@ordering/contracts';
import type { ConsumeMessage } from 'amqplib';

type Args = [message: ConsumeMessage, event: CloudEvent, attempt: number];

/**
 * What an `@EventPattern` handler gets with `@Ctx()`: the AMQP message, the whole CloudEvent,
 * and which attempt this is. Its effect runs in the transaction the transport gives it.
 */
export class EventContext extends BaseRpcContext<Args> {
  get message(): ConsumeMessage {
    return this.args[0];
  }

  get event(): CloudEvent {
    return this.args[1];
  }

  get attempt(): number {
    return this.args[2];
  }
}
