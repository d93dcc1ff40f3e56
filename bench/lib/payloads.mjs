// The event and message every scenario writes: an order-placed event of realistic size (about
// 0.4 kB of data, 0.8 kB as a CloudEvent), so the figures of the scenarios compare. The message
// is a valid `order.placed` v1, as the outbox accepts nothing else.
import { randomUUID } from 'node:crypto';

export const EVENT_TYPE = 'BenchOrderPlaced';
export const ROUTING_KEY = 'order.placed';

export function orderData(orderId) {
  return {
    orderId,
    customerId: 'customer-42',
    lines: [
      { sku: 'COFFEE-BEANS-1KG', quantity: 2, unitPrice: 2490 },
      { sku: 'MUG-CERAMIC', quantity: 1, unitPrice: 1200 },
      { sku: 'FILTER-PAPERS-100', quantity: 3, unitPrice: 450 },
    ],
    total: 7530,
    currency: 'EUR',
    placedAt: '2026-11-28T12:00:00.000Z',
    version: 1,
  };
}

export function metadata(id = randomUUID()) {
  return {
    correlationId: id,
    causationId: id,
    userId: 'customer-42',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  };
}

/** The CloudEvent the outbox holds for one order-placed event; `orderId` is a UUID. */
export function cloudEvent(orderId, id = randomUUID()) {
  return {
    specversion: '1.0',
    id,
    source: '/ordering/order',
    type: ROUTING_KEY,
    subject: orderId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: `https://ordering.example/schemas/${ROUTING_KEY}/v1.json`,
    correlationid: id,
    causationid: id,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    data: orderData(orderId),
  };
}

/** AMQP properties like the project's `publishOptions`: persistent, CloudEvents content type. */
export function publishProperties(messageId, event) {
  return {
    persistent: true,
    contentType: 'application/cloudevents+json',
    messageId,
    type: ROUTING_KEY,
    correlationId: event?.correlationid ?? messageId,
    timestamp: Math.floor(Date.now() / 1000),
  };
}
