import type { INestApplication, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { validateEvent } from '@ordering/contracts';
import { BrokerConnection, Database, type ServiceEnvironment } from '@ordering/platform';
import {
  RabbitMqConsumer,
  type BatchLocks,
  type ConsumedQueue,
} from './consuming/rabbitmq-consumer.js';
import { MessagingModule } from './messaging.module.js';

type Config = ConfigService<ServiceEnvironment, true>;

/** The outbox relay of a service, configured from its environment. */
export function producingModule() {
  return MessagingModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (config: Config) => ({
      relayBatchSize: config.get('OUTBOX_BATCH_SIZE', { infer: true }),
      relayPollIntervalMs: config.get('OUTBOX_POLL_INTERVAL_MS', { infer: true }),
      outboxRetentionHours: config.get('OUTBOX_RETENTION_HOURS', { infer: true }),
    }),
  });
}

/** A provider that takes a consumer's batch locks (see BatchLocks), bound to its instance. */
export interface ConsumerLocks {
  readonly lock: BatchLocks;
}

/**
 * Connects the service's `@EventPattern` handlers to its queue, on a channel of the service's
 * one broker connection. Hybrid with the HTTP app and sharing its configuration, so
 * request-scoped logging reaches message handlers too. `locks` names the provider whose locks each
 * batch takes first, when its handlers need some.
 */
export function connectConsumer(
  app: INestApplication,
  consumer: string,
  queue: ConsumedQueue,
  locks?: Type<ConsumerLocks>,
) {
  const config = app.get<Config>(ConfigService);
  app.connectMicroservice(
    {
      strategy: new RabbitMqConsumer({
        broker: app.get(BrokerConnection),
        database: app.get(Database),
        consumer,
        queue,
        prefetch: config.get('RABBITMQ_PREFETCH', { infer: true }),
        batch: {
          size: config.get('CONSUMER_BATCH_SIZE', { infer: true }),
          lingerMs: config.get('CONSUMER_LINGER_MS', { infer: true }),
        },
        locks: locks && app.get(locks).lock,
        retry: {
          attempts: config.get('RETRY_ATTEMPTS', { infer: true }),
          baseDelayMs: config.get('RETRY_BASE_DELAY_MS', { infer: true }),
          maxDelayMs: config.get('RETRY_MAX_DELAY_MS', { infer: true }),
        },
        inboxRetentionDays: config.get('INBOX_RETENTION_DAYS', { infer: true }),
        validate: validateEvent,
      }),
    },
    // The app's global filter hands handler errors to the transport as thrown (the dead
    // letter keeps the real reason), and its logger gives message handlers a context.
    { inheritAppConfig: true },
  );
}
