import { randomUUID } from 'node:crypto';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  contracts,
  createEvent,
  type CloudEvent,
  type Contract,
} from '@ordering/contracts';
import amqplib from 'amqplib';

/**
 * Publishes events as their producing service's relay would: on the contract's exchange, with
 * the type as routing key, persistent, confirmed. For tests that play another service.
 */
export async function testPublisher(rabbitmqUrl: string) {
  const connection = await amqplib.connect(rabbitmqUrl);
  const channel = await connection.createConfirmChannel();
  return {
    async publish(event: CloudEvent): Promise<void> {
      const contract = contracts.find((candidate) => candidate.type === event.type);
      if (!contract) throw new Error(`No contract for ${event.type}`);
      channel.publish(contract.exchange, event.type, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        messageId: event.id,
        type: event.type,
      });
      await channel.waitForConfirms();
    },
    close: () => connection.close(),
  };
}

/** A message of `contract` about `data`, as its producer would publish it (new id, now). */
export function testEvent<T>(contract: Contract<T>, data: T): CloudEvent<T> {
  const id = randomUUID();
  return createEvent(contract, {
    id,
    subject: String((data as Record<string, unknown>)[contract.subjectField]),
    time: new Date().toISOString(),
    correlationid: id,
    causationid: id,
    data,
  });
}
