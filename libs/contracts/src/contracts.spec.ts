import { describe, expect, it } from '@jest/globals';
import { createEvent, dataschemaOf, type CloudEvent, type Contract } from './cloud-event.js';
import { Exchanges } from './exchanges.js';
import { inventoryReleasedV1 } from './inventory/inventory-released.v1.js';
import { inventoryReservationFailedV1 } from './inventory/inventory-reservation-failed.v1.js';
import { inventoryReservedV1 } from './inventory/inventory-reserved.v1.js';
import { productUpdatedV1 } from './inventory/product-updated.v1.js';
import { orderCancelledV1 } from './order/order-cancelled.v1.js';
import { orderConfirmedV1 } from './order/order-confirmed.v1.js';
import { orderPlacedV1 } from './order/order-placed.v1.js';
import { orderRejectedV1 } from './order/order-rejected.v1.js';
import { contractFor, contracts } from './registry.js';
import { SKU_PATTERN } from './sku.js';
import {
  deadLetterQueueOf,
  redeliveryExchangeOf,
  brokerPermissionsOf,
  declareQueue,
  declareTopology,
  Queues,
  retryQueueOf,
  type TopologyChannel,
} from './topology.js';
import { validateEvent } from './validation.js';

const orderId = '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01';
const envelope = {
  id: '5d0b7c1e-9a65-4f0e-8d4f-6a2b9b1f3c11',
  time: '2026-11-28T09:15:00.000Z',
  correlationid: '7a1c7a52-2d8e-4a0e-9a4a-1d2f3e4b5c6d',
  causationid: '9f8e7d6c-5b4a-4392-8a1b-0c9d8e7f6a5b',
};

/** A valid message of `contract` carrying its example, as a plain (mutable) object. */
function exampleOf(contract: Contract): CloudEvent<Record<string, unknown>> {
  const data = structuredClone(contract.example) as Record<string, unknown>;
  const event = createEvent(contract, {
    ...envelope,
    subject: data[contract.subjectField] as string,
    data,
  });
  return structuredClone(event) as CloudEvent<Record<string, unknown>>;
}

/** The reason `value` is refused for; fails the test when it is accepted. */
function reasonFor(value: unknown): string {
  const validation = validateEvent(value);
  if (validation.valid) throw new Error('expected the message to be refused');
  return validation.reason;
}

describe('the contracts', () => {
  it.each(contracts.map((c) => [`${c.type} v${c.version}`, c] as const))(
    '%s: its example is a valid message',
    (_, contract) => {
      const message = exampleOf(contract);
      const validation = validateEvent(JSON.parse(JSON.stringify(message)));
      expect(validation).toEqual({ valid: true, event: message, contract });
    },
  );

  it('has one contract per type and version, each named by its dataschema', () => {
    const keys = contracts.map((c) => `${c.type}@${c.version}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const contract of contracts) {
      expect(contract.dataschema).toBe(dataschemaOf(contract));
      expect(Number.isInteger(contract.version) && contract.version >= 1).toBe(true);
    }
  });

  it('has each service publish on its own exchange', () => {
    for (const contract of contracts) {
      const service = contract.source.replace('/ordering/', '');
      expect(contract.exchange).toBe(`${service}.events`);
      expect(Object.values(Exchanges)).toContain(contract.exchange);
    }
  });

  it('has the subject of every message in a required field of its data', () => {
    for (const contract of contracts) {
      expect(contract.schema.required).toContain(contract.subjectField);
    }
  });

  it('closes every payload object and requires every field', () => {
    const objects = (schema: unknown, path: string): [string, Record<string, unknown>][] => {
      if (typeof schema !== 'object' || schema === null) return [];
      const node = schema as Record<string, unknown>;
      const own: [string, Record<string, unknown>][] = node.type === 'object' ? [[path, node]] : [];
      return own.concat(
        Object.entries(node).flatMap(([key, child]) => objects(child, `${path}/${key}`)),
      );
    };
    for (const contract of contracts) {
      for (const [path, node] of objects(contract.schema, contract.type)) {
        expect([path, node.additionalProperties]).toEqual([path, false]);
        expect([path, node.required]).toEqual([
          path,
          Object.keys(node.properties as Record<string, unknown>),
        ]);
      }
    }
  });

  it('uses one shape for SKUs, order ids, times and amounts everywhere', () => {
    const fields = (schema: unknown): [string, Record<string, unknown>][] => {
      if (typeof schema !== 'object' || schema === null) return [];
      const properties = (schema as { properties?: Record<string, Record<string, unknown>> })
        .properties;
      return [
        ...Object.entries(properties ?? {}),
        ...Object.values(schema as object).flatMap(fields),
      ];
    };
    for (const [name, field] of contracts.flatMap((c) => fields(c.schema))) {
      if (name === 'sku') {
        expect(field).toEqual({ type: 'string', pattern: SKU_PATTERN });
      }
      if (name === 'orderId') expect(field).toEqual({ type: 'string', format: 'uuid' });
      if (name.endsWith('At')) expect(field).toEqual({ type: 'string', format: 'date-time' });
      if (name === 'currency') expect(field).toMatchObject({ pattern: '^[A-Z]{3}$' });
      if (['unitPrice', 'total', 'price'].includes(name)) {
        expect(field).toMatchObject({ type: 'integer', minimum: 0 });
      }
    }
  });

  describe('contractFor', () => {
    it('finds a type at a version, or at its latest version', () => {
      expect(contractFor('order.placed', 1)).toBe(orderPlacedV1);
      expect(contractFor('order.placed')).toBe(orderPlacedV1);
      expect(contractFor('product.updated')).toBe(productUpdatedV1);
    });

    it('finds nothing for an unknown type or version', () => {
      expect(contractFor('order.shipped')).toBeUndefined();
      expect(contractFor('order.placed', 2)).toBeUndefined();
    });
  });
});

describe('validateEvent refuses, naming the field at fault', () => {
  const placed = () => exampleOf(orderPlacedV1);
  type Message = ReturnType<typeof placed>;
  const lines = (m: Message) => m.data.lines as Record<string, unknown>[];

  const cases: [string, () => unknown, string][] = [
    // The envelope
    ['what is not an object', () => 'order.placed', 'event must be object'],
    ['null', () => null, 'event must be object'],
    [
      'a missing attribute',
      () => {
        const m: Partial<Message> = placed();
        delete m.correlationid;
        return m;
      },
      'correlationid is required',
    ],
    [
      'a missing dataschema',
      () => {
        const m: Partial<Message> = placed();
        delete m.dataschema;
        return m;
      },
      'dataschema is required',
    ],
    [
      'another specversion',
      () => ({ ...placed(), specversion: '0.3' }),
      'specversion must be "1.0"',
    ],
    [
      'another datacontenttype',
      () => ({ ...placed(), datacontenttype: 'application/xml' }),
      'datacontenttype must be "application/json"',
    ],
    ['an id that is no UUID', () => ({ ...placed(), id: 'msg-1' }), 'id must match format "uuid"'],
    [
      'a time without offset',
      () => ({ ...placed(), time: '2026-11-28T09:15:00' }),
      'time must match format "date-time"',
    ],
    [
      'an unknown source',
      () => ({ ...placed(), source: '/billing' }),
      'source must be one of /ordering/order, /ordering/inventory, /ordering/notification',
    ],
    [
      'a malformed traceparent',
      () => ({ ...placed(), traceparent: 'abc' }),
      'traceparent must match pattern "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"',
    ],
    ['data that is no object', () => ({ ...placed(), data: [] }), 'data must be object'],
    // Type and version
    [
      'an unknown type',
      () => ({
        ...placed(),
        type: 'order.shipped',
        dataschema: 'https://ordering.example/schemas/order.shipped/v1.json',
      }),
      'dataschema names an unknown event type order.shipped',
    ],
    [
      'an unknown version',
      () => ({ ...placed(), dataschema: 'https://ordering.example/schemas/order.placed/v2.json' }),
      'dataschema names an unknown version v2 of order.placed (known: v1)',
    ],
    [
      'a dataschema of another system',
      () => ({ ...placed(), dataschema: 'https://example.com/order.json' }),
      'dataschema https://example.com/order.json is not an Ordering schema ' +
        '(https://ordering.example/schemas/<type>/v<version>.json)',
    ],
    [
      'a type its dataschema does not name',
      () => ({ ...placed(), type: 'order.confirmed' }),
      'type order.confirmed does not match dataschema order.placed v1',
    ],
    [
      'a source that does not publish the type',
      () => ({ ...placed(), source: '/ordering/inventory' }),
      'source /ordering/inventory does not match order.placed, published by /ordering/order',
    ],
    [
      'a subject other than the aggregate',
      () => ({ ...placed(), subject: 'b1c2d3e4-0000-4000-8000-000000000000' }),
      'subject b1c2d3e4-0000-4000-8000-000000000000 does not match data/orderId',
    ],
    // The payload
    [
      'a missing field',
      () => {
        const m = placed();
        delete m.data.customerId;
        return m;
      },
      'data/customerId is required',
    ],
    [
      'an extra field',
      () => {
        const m = placed();
        m.data.discount = 100;
        return m;
      },
      'data/discount is not allowed',
    ],
    [
      'an extra field in a line',
      () => {
        const m = placed();
        lines(m)[1].note = 'gift';
        return m;
      },
      'data/lines/1/note is not allowed',
    ],
    [
      'a fractional quantity',
      () => {
        const m = placed();
        lines(m)[0].quantity = 1.5;
        return m;
      },
      'data/lines/0/quantity must be integer',
    ],
    [
      'a quantity as a string',
      () => {
        const m = placed();
        lines(m)[0].quantity = '2';
        return m;
      },
      'data/lines/0/quantity must be integer',
    ],
    [
      'an order id that is no UUID',
      () => {
        const m = placed();
        m.data.orderId = 'order-1';
        m.subject = 'order-1';
        return m;
      },
      'data/orderId must match format "uuid"',
    ],
    [
      'an order without lines',
      () => {
        const m = placed();
        m.data.lines = [];
        return m;
      },
      'data/lines must NOT have fewer than 1 items',
    ],
    [
      'a malformed SKU',
      () => {
        const m = placed();
        lines(m)[0].sku = 'coffee beans';
        return m;
      },
      'data/lines/0/sku must match pattern "^[A-Za-z0-9._-]{1,64}$"',
    ],
    [
      'a lower-case currency',
      () => {
        const m = placed();
        m.data.currency = 'eur';
        return m;
      },
      'data/currency must match pattern "^[A-Z]{3}$"',
    ],
    [
      'a price that is not in cents',
      () => {
        const m = placed();
        m.data.total = 40.99;
        return m;
      },
      'data/total must be integer',
    ],
    [
      'a status another type stands for',
      () => {
        const m = exampleOf(orderConfirmedV1);
        m.data.status = 'REJECTED';
        return m;
      },
      'data/status must be "CONFIRMED"',
    ],
    [
      'an unknown rejection reason',
      () => {
        const m = exampleOf(orderRejectedV1);
        m.data.reason = 'CHANGED_MIND';
        return m;
      },
      'data/reason must be one of OUT_OF_STOCK, RESERVATION_TIMEOUT',
    ],
    [
      'an empty list of short lines',
      () => {
        const m = exampleOf(inventoryReservationFailedV1);
        m.data.shortLines = [];
        return m;
      },
      'data/shortLines must NOT have fewer than 1 items',
    ],
    [
      'negative stock',
      () => {
        const m = exampleOf(productUpdatedV1);
        m.data.available = -1;
        return m;
      },
      'data/available must be >= 0',
    ],
    [
      'a product at version 0',
      () => {
        const m = exampleOf(productUpdatedV1);
        m.data.version = 0;
        return m;
      },
      'data/version must be >= 1',
    ],
    [
      'a time that is no RFC 3339 date-time',
      () => {
        const m = exampleOf(inventoryReleasedV1);
        m.data.releasedAt = '28/11/2026 10:02';
        return m;
      },
      'data/releasedAt must match format "date-time"',
    ],
  ];

  it.each(cases)('%s', (_, message, reason) => {
    expect(reasonFor(message())).toBe(reason);
    expect(reason).not.toContain('\n');
  });

  it('accepts extension attributes it does not know, as CloudEvents asks', () => {
    expect(validateEvent({ ...exampleOf(orderPlacedV1), partitionkey: orderId }).valid).toBe(true);
  });

  it('accepts a traceparent', () => {
    const message = {
      ...exampleOf(orderPlacedV1),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };
    expect(validateEvent(message).valid).toBe(true);
  });
});

describe('the serialized shape of each event', () => {
  // Written out by hand on purpose: a change here is a change on the wire, for every consumer.
  const wire = (event: CloudEvent) => JSON.parse(JSON.stringify(event)) as unknown;
  const common = {
    specversion: '1.0',
    id: envelope.id,
    time: envelope.time,
    datacontenttype: 'application/json',
    correlationid: envelope.correlationid,
    causationid: envelope.causationid,
  };

  it('order.placed v1', () => {
    const event = createEvent(orderPlacedV1, {
      ...envelope,
      subject: orderId,
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      data: {
        orderId,
        customerId: 'customer-1',
        lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2, unitPrice: 1850 }],
        total: 3700,
        currency: 'EUR',
        placedAt: '2026-11-28T09:15:00.000Z',
        version: 1,
      },
    });
    expect(wire(event)).toStrictEqual({
      specversion: '1.0',
      id: '5d0b7c1e-9a65-4f0e-8d4f-6a2b9b1f3c11',
      source: '/ordering/order',
      type: 'order.placed',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      time: '2026-11-28T09:15:00.000Z',
      datacontenttype: 'application/json',
      dataschema: 'https://ordering.example/schemas/order.placed/v1.json',
      correlationid: '7a1c7a52-2d8e-4a0e-9a4a-1d2f3e4b5c6d',
      causationid: '9f8e7d6c-5b4a-4392-8a1b-0c9d8e7f6a5b',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        customerId: 'customer-1',
        lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2, unitPrice: 1850 }],
        total: 3700,
        currency: 'EUR',
        placedAt: '2026-11-28T09:15:00.000Z',
        version: 1,
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('order.confirmed v1', () => {
    const data = {
      orderId,
      status: 'CONFIRMED',
      version: 2,
      occurredAt: '2026-11-28T09:15:01.250Z',
    } as const;
    const event = createEvent(orderConfirmedV1, { ...envelope, subject: orderId, data });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/order',
      type: 'order.confirmed',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      dataschema: 'https://ordering.example/schemas/order.confirmed/v1.json',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        status: 'CONFIRMED',
        version: 2,
        occurredAt: '2026-11-28T09:15:01.250Z',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('order.rejected v1', () => {
    const data = {
      orderId,
      status: 'REJECTED',
      version: 2,
      occurredAt: '2026-11-28T09:20:00.000Z',
      reason: 'RESERVATION_TIMEOUT',
    } as const;
    const event = createEvent(orderRejectedV1, { ...envelope, subject: orderId, data });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/order',
      type: 'order.rejected',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      dataschema: 'https://ordering.example/schemas/order.rejected/v1.json',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        status: 'REJECTED',
        version: 2,
        occurredAt: '2026-11-28T09:20:00.000Z',
        reason: 'RESERVATION_TIMEOUT',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('order.cancelled v1', () => {
    const data = {
      orderId,
      status: 'CANCELLED',
      version: 3,
      occurredAt: '2026-11-28T10:02:41.000Z',
      reason: 'Ordered by mistake',
    } as const;
    const event = createEvent(orderCancelledV1, { ...envelope, subject: orderId, data });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/order',
      type: 'order.cancelled',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      dataschema: 'https://ordering.example/schemas/order.cancelled/v1.json',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        status: 'CANCELLED',
        version: 3,
        occurredAt: '2026-11-28T10:02:41.000Z',
        reason: 'Ordered by mistake',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('inventory.reserved v1', () => {
    const data = {
      orderId,
      lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2 }],
      reservedAt: '2026-11-28T09:15:00.800Z',
    };
    const event = createEvent(inventoryReservedV1, { ...envelope, subject: orderId, data });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/inventory',
      type: 'inventory.reserved',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      dataschema: 'https://ordering.example/schemas/inventory.reserved/v1.json',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2 }],
        reservedAt: '2026-11-28T09:15:00.800Z',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('inventory.reservation-failed v1', () => {
    const data = {
      orderId,
      shortLines: [{ sku: 'COFFEE-BEANS-1KG', requested: 2, available: 0 }],
      failedAt: '2026-11-28T09:15:00.800Z',
    };
    const event = createEvent(inventoryReservationFailedV1, {
      ...envelope,
      subject: orderId,
      data,
    });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/inventory',
      type: 'inventory.reservation-failed',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      dataschema: 'https://ordering.example/schemas/inventory.reservation-failed/v1.json',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        shortLines: [{ sku: 'COFFEE-BEANS-1KG', requested: 2, available: 0 }],
        failedAt: '2026-11-28T09:15:00.800Z',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('inventory.released v1', () => {
    const data = {
      orderId,
      lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2 }],
      reason: 'ORDER_REJECTED',
      releasedAt: '2026-11-28T09:45:00.000Z',
    } as const;
    const event = createEvent(inventoryReleasedV1, {
      ...envelope,
      subject: orderId,
      data: { ...data, lines: [...data.lines] },
    });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/inventory',
      type: 'inventory.released',
      subject: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
      dataschema: 'https://ordering.example/schemas/inventory.released/v1.json',
      data: {
        orderId: '0b6f2f7e-3f4e-4a57-9a43-2f8a7d1c9e01',
        lines: [{ sku: 'COFFEE-BEANS-1KG', quantity: 2 }],
        reason: 'ORDER_REJECTED',
        releasedAt: '2026-11-28T09:45:00.000Z',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('product.updated v1', () => {
    const data = {
      sku: 'COFFEE-BEANS-1KG',
      name: 'Coffee beans, 1 kg',
      price: 1850,
      currency: 'EUR',
      available: 118,
      version: 7,
      updatedAt: '2026-11-28T09:15:00.800Z',
    };
    const event = createEvent(productUpdatedV1, { ...envelope, subject: data.sku, data });
    expect(wire(event)).toStrictEqual({
      ...common,
      source: '/ordering/inventory',
      type: 'product.updated',
      subject: 'COFFEE-BEANS-1KG',
      dataschema: 'https://ordering.example/schemas/product.updated/v1.json',
      data: {
        sku: 'COFFEE-BEANS-1KG',
        name: 'Coffee beans, 1 kg',
        price: 1850,
        currency: 'EUR',
        available: 118,
        version: 7,
        updatedAt: '2026-11-28T09:15:00.800Z',
      },
    });
    expect(validateEvent(wire(event)).valid).toBe(true);
  });

  it('covers every contract', () => {
    // A new contract needs its hand-written shape above.
    expect(contracts.map((c) => `${c.type} v${c.version}`)).toEqual([
      'order.placed v1',
      'order.confirmed v1',
      'order.rejected v1',
      'order.cancelled v1',
      'inventory.reserved v1',
      'inventory.reservation-failed v1',
      'inventory.released v1',
      'product.updated v1',
    ]);
  });
});

describe('the topology', () => {
  it('names queues <consumer>.<exchange> and binds only the types published there', () => {
    for (const queue of Object.values(Queues)) {
      expect(queue.name).toBe(`${queue.consumer}.${queue.exchange}`);
      for (const routingKey of queue.routingKeys) {
        expect([routingKey, contractFor(routingKey)?.exchange]).toEqual([
          routingKey,
          queue.exchange,
        ]);
      }
    }
  });

  it('names dead-letter and delay queues after their queue', () => {
    expect(deadLetterQueueOf('inventory.order.events')).toBe('inventory.order.events.dlq');
    expect(retryQueueOf('inventory.order.events', 1000)).toBe(
      'inventory.order.events.retry.1000ms',
    );
    expect(retryQueueOf('inventory.order.events', 4000)).toBe(
      'inventory.order.events.retry.4000ms',
    );
    expect(() => retryQueueOf('inventory.order.events', 0)).toThrow(RangeError);
    expect(() => retryQueueOf('inventory.order.events', 1.5)).toThrow(RangeError);
  });

  function recordingChannel() {
    const calls: string[] = [];
    const channel: TopologyChannel = {
      assertExchange: async (name, type, options) =>
        calls.push(`exchange ${name} ${type} durable=${options.durable}`),
      checkExchange: async (name) => calls.push(`check exchange ${name}`),
      assertQueue: async (name, options) =>
        calls.push(`queue ${name} durable=${options.durable} ${JSON.stringify(options.arguments)}`),
      bindQueue: async (queue, exchange, key) => calls.push(`bind ${queue} ${exchange} ${key}`),
    };
    return { channel, calls };
  }

  it('declares a consumer queue as a durable quorum queue that dead-letters into its .dlq, with its delay queues, all reachable through its redelivery exchange', async () => {
    const { channel, calls } = recordingChannel();
    await declareQueue(
      channel,
      {
        name: 'billing.order.events',
        exchange: Exchanges.order,
        routingKeys: ['order.placed', 'order.cancelled'],
      },
      [500],
    );
    expect(calls).toEqual([
      'check exchange order.events',
      'exchange billing.order.events.redelivery direct durable=true',
      'queue billing.order.events.dlq durable=true {"x-queue-type":"quorum"}',
      'bind billing.order.events.dlq billing.order.events.redelivery billing.order.events.dlq',
      'queue billing.order.events durable=true {"x-queue-type":"quorum","x-delivery-limit":20,' +
        '"x-dead-letter-exchange":"billing.order.events.redelivery",' +
        '"x-dead-letter-routing-key":"billing.order.events.dlq"}',
      'bind billing.order.events billing.order.events.redelivery billing.order.events',
      'bind billing.order.events order.events order.placed',
      'bind billing.order.events order.events order.cancelled',
      'queue billing.order.events.retry.500ms durable=true {"x-queue-type":"quorum",' +
        '"x-message-ttl":500,"x-dead-letter-exchange":"billing.order.events.redelivery",' +
        '"x-dead-letter-routing-key":' +
        '"billing.order.events","x-dead-letter-strategy":"at-least-once","x-overflow":"reject-publish"}',
      'bind billing.order.events.retry.500ms billing.order.events.redelivery billing.order.events.retry.500ms',
    ]);
  });

  it.each([
    ['order', '^order\\.', '^(order\\..*|inventory\\.events)$'],
    ['inventory', '^inventory\\.', '^(inventory\\..*|order\\.events)$'],
    ['notification', '^notification\\.', '^(notification\\..*|order\\.events)$'],
  ] as const)(
    "gives the %s service's broker user its own names and the exchanges it consumes from",
    (service, own, read) => {
      expect(brokerPermissionsOf(service)).toEqual({ configure: own, write: own, read });
      const allowed = (pattern: string, name: string) => new RegExp(pattern).test(name);
      const { configure, write } = brokerPermissionsOf(service);
      for (const queue of Object.values(Queues)) {
        const mine = queue.consumer === service;
        for (const name of [
          queue.name,
          deadLetterQueueOf(queue.name),
          retryQueueOf(queue.name, 1000),
        ]) {
          expect([name, allowed(configure, name), allowed(read, name)]).toEqual([name, mine, mine]);
        }
        expect(allowed(write, redeliveryExchangeOf(queue.name))).toBe(mine);
      }
      for (const [publisher, exchange] of Object.entries(Exchanges)) {
        expect([exchange, allowed(write, exchange)]).toEqual([exchange, publisher === service]);
      }
      // The default exchange would reach every queue.
      expect(allowed(write, 'amq.default')).toBe(false);
    },
  );

  it('declares every exchange, queue and binding of the system', async () => {
    const { channel, calls } = recordingChannel();
    await declareTopology(channel);
    for (const exchange of Object.values(Exchanges)) {
      expect(calls).toContain(`exchange ${exchange} topic durable=true`);
    }
    for (const queue of Object.values(Queues)) {
      for (const key of queue.routingKeys) {
        expect(calls).toContain(`bind ${queue.name} ${queue.exchange} ${key}`);
      }
    }
    // Each event type's binding, and each queue and dead-letter queue on its redelivery exchange.
    expect(calls.filter((call) => call.startsWith('bind'))).toHaveLength(
      Object.values(Queues).flatMap((q) => [...q.routingKeys, 'queue', 'dlq']).length,
    );
  });
});
