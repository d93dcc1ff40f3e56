import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { validateEvent } from '@ordering/contracts';
import { BrokerConnection, Database, type ServiceEnvironment } from '@ordering/platform';
import { RabbitMqConsumer, type ConsumedQueue } from './consuming/rabbitmq-consumer.js';
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

/**
 * Connects the service's `@EventPattern` handlers to its queue, on a channel of the service's
 * one broker connection. Hybrid with the HTTP app and sharing its configuration, so
 * request-scoped logging reaches message handlers too.
 */
export function connectConsumer(app: INestApplication, consumer: string, queue: ConsumedQueue) {
  const config = app.get<Config>(ConfigService);
  app.connectMicroservice(
    {
      strategy: new RabbitMqConsumer({
        broker: app.get(BrokerConnection),
        database: app.get(Database),
        consumer,
        queue,
        prefetch: config.get('RABBITMQ_PREFETCH', { infer: true }),
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
