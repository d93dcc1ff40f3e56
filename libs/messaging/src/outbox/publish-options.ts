import { CLOUDEVENTS_CONTENT_TYPE } from '@ordering/contracts';
import type { Options } from 'amqplib';

/** AMQP properties that mirror a CloudEvent's attributes; every message is persistent. */
export function publishOptions(
  messageId: string,
  type: string,
  event: { correlationid?: string; time?: string },
): Options.Publish {
  const time = event.time ? Date.parse(event.time) : Date.now();
  return {
    persistent: true,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    messageId,
    type,
    correlationId: event.correlationid,
    timestamp: Math.floor(time / 1000),
  };
}
