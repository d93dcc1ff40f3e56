import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  envelopeSchema,
  type Contract,
} from './cloud-event.js';
import { Exchanges } from './exchanges.js';
import { contracts } from './registry.js';
import { deadLetterQueueOf, queueArgumentsOf, Queues, type QueueDefinition } from './topology.js';
import { validateEvent } from './validation.js';

// The document downstream teams read. These tests fail whenever it and the code disagree.
const DOC = path.resolve(import.meta.dirname, '../../../docs/asyncapi.yaml');

interface Ref {
  $ref: string;
}
interface Message {
  name: string;
  contentType?: string;
  payload: unknown;
  traits?: Ref[];
  examples?: { payload?: unknown }[];
  bindings?: { amqp?: { messageType?: string } };
  'x-dataschema': string;
  'x-subject': string;
}
interface Channel {
  address: string | null;
  messages?: Record<string, Ref>;
  parameters?: Record<string, { enum?: string[] }>;
  bindings?: {
    amqp?: {
      is: 'routingKey' | 'queue';
      exchange?: { name: string; type: string; durable: boolean; autoDelete: boolean };
      queue?: { name: string; durable: boolean; exclusive: boolean; autoDelete: boolean };
    };
  };
  'x-consumer'?: string;
  'x-exchange-binding'?: { exchange: string; routingKeys: string[] };
  'x-queue-arguments'?: Record<string, unknown>;
  'x-dead-letter-queue'?: string;
}
interface Operation {
  action: 'send' | 'receive';
  channel: Ref;
  messages?: Ref[];
  tags?: { name: string }[];
  bindings?: { amqp?: { cc?: string[]; deliveryMode?: number; ack?: boolean } };
}
interface AsyncApi {
  asyncapi: string;
  defaultContentType?: string;
  servers: Record<string, { protocol: string; protocolVersion?: string }>;
  channels: Record<string, Channel>;
  operations: Record<string, Operation>;
  components: {
    schemas: Record<string, unknown>;
    messages: Record<string, Message>;
    messageTraits: Record<string, { contentType?: string }>;
  };
}

const doc = parse(readFileSync(DOC, 'utf8')) as AsyncApi;

/** What a local `$ref` (`#/a/b`) points at, following references to references; or undefined. */
function resolve(ref: string, seen = new Set<string>()): unknown {
  if (!ref.startsWith('#/') || seen.has(ref)) return undefined;
  const target = ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  const next = (target as Partial<Ref> | undefined)?.$ref;
  return typeof next === 'string' ? resolve(next, seen.add(ref)) : target;
}

const messagesIn = (channel: Channel) =>
  Object.values(channel.messages ?? {}).map((ref) => resolve(ref.$ref) as Message);
const dataschemasIn = (channel: Channel) => messagesIn(channel).map((m) => m['x-dataschema']);
const dataschemasOf = (selected: readonly Contract[]) => selected.map((c) => c.dataschema);

const exchangeChannels = Object.entries(doc.channels).filter(
  ([, channel]) => channel.bindings?.amqp?.is === 'routingKey',
);
const queueChannels = Object.entries(doc.channels).filter(
  ([, channel]) => channel.bindings?.amqp?.is === 'queue',
);
const channelKeyOfExchange = (exchange: string) =>
  exchangeChannels.find(([, c]) => c.bindings?.amqp?.exchange?.name === exchange)?.[0];

describe('docs/asyncapi.yaml', () => {
  it('is an AsyncAPI 3.0.0 document of a RabbitMQ (AMQP 0-9-1) broker', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(Object.values(doc.servers)).toContainEqual(
      expect.objectContaining({ protocol: 'amqp', protocolVersion: '0-9-1' }),
    );
  });

  it('has every local $ref point at something', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.push(value);
        else walk(value);
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => resolve(ref) === undefined)).toEqual([]);
  });

  it('documents the CloudEvents envelope as the code checks it', () => {
    expect(doc.components.schemas.CloudEventEnvelope).toStrictEqual(envelopeSchema);
  });

  describe.each(contracts.map((c) => [`${c.type} v${c.version}`, c] as const))(
    'the message %s',
    (_, contract) => {
      const found = Object.values(doc.components.messages).filter(
        (message) => message['x-dataschema'] === contract.dataschema,
      );

      it('is documented once, with the payload schema of the code, unchanged', () => {
        expect(found).toHaveLength(1);
        const [message] = found;
        expect(message.name).toBe(contract.type);
        expect(message.payload).toStrictEqual(contract.schema);
        expect(message['x-subject']).toBe(contract.subjectField);
        expect(message.bindings?.amqp?.messageType).toBe(contract.type);
      });

      it('is a CloudEvent in structured JSON mode', () => {
        const [message] = found;
        const traits = (message.traits ?? []).map((t) => resolve(t.$ref) as Message);
        const contentType =
          message.contentType ??
          traits.find((t) => t.contentType)?.contentType ??
          doc.defaultContentType;
        expect(contentType).toBe(CLOUDEVENTS_CONTENT_TYPE);
      });

      it('has examples that are valid messages', () => {
        const [message] = found;
        expect(message.examples?.length).toBeGreaterThan(0);
        for (const example of message.examples ?? []) {
          const data = example.payload as Record<string, unknown>;
          const event = createEvent(contract, {
            id: '5d0b7c1e-9a65-4f0e-8d4f-6a2b9b1f3c11',
            subject: data[contract.subjectField] as string,
            time: '2026-11-28T09:15:00.000Z',
            correlationid: 'c',
            causationid: 'c',
            data,
          });
          expect(validateEvent(event)).toMatchObject({ valid: true });
        }
      });

      it('is sent by its producer on its exchange, with its type as routing key', () => {
        const channelKey = channelKeyOfExchange(contract.exchange);
        const sends = Object.values(doc.operations).filter(
          (op) =>
            op.action === 'send' &&
            op.channel.$ref === `#/channels/${channelKey}` &&
            (op.messages ?? []).some(
              (ref) => (resolve(ref.$ref) as Message)['x-dataschema'] === contract.dataschema,
            ),
        );
        expect(sends).toHaveLength(1);
        const [send] = sends;
        expect(send.bindings?.amqp?.cc).toEqual([contract.type]);
        expect(send.bindings?.amqp?.deliveryMode).toBe(2);
        expect(send.tags?.map((t) => t.name)).toEqual([contract.source.replace('/ordering/', '')]);
      });
    },
  );

  it('documents no message the code does not know', () => {
    const known = new Set(dataschemasOf(contracts));
    const unknown = Object.entries(doc.components.messages)
      .filter(([, message]) => !known.has(message['x-dataschema']))
      .map(([key]) => key);
    expect(unknown).toEqual([]);
  });

  it.each(Object.values(Exchanges))(
    'documents the exchange %s: durable, topic, with every type published on it',
    (exchange) => {
      const key = channelKeyOfExchange(exchange);
      expect(key).toBeDefined();
      const channel = doc.channels[key!];
      expect(channel.bindings?.amqp?.exchange).toMatchObject({
        name: exchange,
        type: 'topic',
        durable: true,
        autoDelete: false,
      });
      const published = contracts.filter((c) => c.exchange === exchange);
      expect(dataschemasIn(channel).sort()).toEqual(dataschemasOf(published).sort());
      const routingKeys = Object.values(channel.parameters ?? {})[0]?.enum ?? [];
      expect([...routingKeys].sort()).toEqual([...new Set(published.map((c) => c.type))].sort());
    },
  );

  it('documents no exchange the code does not declare', () => {
    const documented = exchangeChannels.map(([, c]) => c.bindings?.amqp?.exchange?.name);
    expect(documented.sort()).toEqual(Object.values(Exchanges).sort());
  });

  it.each(Object.values(Queues).map((q): [string, QueueDefinition] => [q.name, q]))(
    'documents the queue %s: its binding, its arguments, its dead letters and its consumer',
    (_, queue) => {
      const found = queueChannels.filter(([, c]) => c.bindings?.amqp?.queue?.name === queue.name);
      expect(found).toHaveLength(1);
      const [[key, channel]] = found;
      expect(channel.address).toBe(queue.name);
      expect(channel.bindings?.amqp?.queue).toMatchObject({
        durable: true,
        exclusive: false,
        autoDelete: false,
      });
      expect(channel['x-consumer']).toBe(queue.consumer);
      expect(channel['x-exchange-binding']).toEqual({
        exchange: queue.exchange,
        routingKeys: [...queue.routingKeys],
      });
      expect(channel['x-queue-arguments']).toEqual(queueArgumentsOf(queue.name));
      expect(channel['x-dead-letter-queue']).toBe(deadLetterQueueOf(queue.name));

      const taken = contracts.filter(
        (c) => c.exchange === queue.exchange && queue.routingKeys.includes(c.type),
      );
      expect(dataschemasIn(channel).sort()).toEqual(dataschemasOf(taken).sort());

      const receives = Object.values(doc.operations).filter(
        (op) => op.action === 'receive' && op.channel.$ref === `#/channels/${key}`,
      );
      expect(receives).toHaveLength(1);
      const [receive] = receives;
      expect(receive.tags?.map((t) => t.name)).toEqual([queue.consumer]);
      expect(receive.bindings?.amqp?.ack).toBe(true);
      const received = (receive.messages ?? []).map(
        (ref) => (resolve(ref.$ref) as Message)['x-dataschema'],
      );
      expect(received.sort()).toEqual(dataschemasOf(taken).sort());
    },
  );

  it('documents no queue the code does not declare', () => {
    const documented = queueChannels.map(([, c]) => c.bindings?.amqp?.queue?.name);
    expect(documented.sort()).toEqual(
      Object.values(Queues)
        .map((q) => q.name)
        .sort(),
    );
  });

  it("has every operation take only its own channel's messages", () => {
    for (const [key, operation] of Object.entries(doc.operations)) {
      const channel = operation.channel.$ref;
      for (const message of operation.messages ?? []) {
        expect([key, message.$ref.startsWith(`${channel}/messages/`)]).toEqual([key, true]);
      }
    }
  });
});
