import type { INestApplication, Type } from '@nestjs/common';
import {
  ensureDatabase,
  startHttpApp,
  type ServiceDefinition,
  type ServiceEnvironment,
} from '@ordering/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { databaseUrl, dropDatabase, uniqueDatabaseName } from './databases.js';
import { UNLIMITED_RATES } from './http-client.js';
import { createTestVhost } from './vhosts.js';

export interface InProcessService {
  app: INestApplication;
  url: string;
  /** The RabbitMQ URL of its virtual host, for the test to publish and consume on. */
  rabbitmqUrl: string;
  stop: () => Promise<void>;
}

/**
 * One service started inside the test process, on a database and a RabbitMQ virtual host of its
 * own, configured through its environment as `npm start` configures it. `load` imports the
 * service's module: it reads its configuration when imported, so only after the environment is
 * set. `connect` wires its consumer, as its main.ts does.
 */
export async function startInProcess<E extends ServiceEnvironment, M>(options: {
  name: 'order' | 'inventory' | 'notification';
  env?: Record<string, string>;
  load: () => Promise<{ service: ServiceDefinition<E>; module: Type<M> }>;
  connect?: (app: NestFastifyApplication) => void;
}): Promise<InProcessService> {
  const database = uniqueDatabaseName(`${options.name}_service`);
  const vhost = await createTestVhost(options.name);
  const url = databaseUrl(database);
  Object.assign(process.env, {
    [`${options.name.toUpperCase()}_DATABASE_URL`]: url,
    RABBITMQ_URL: vhost.url,
    LOG_LEVEL: 'warn',
    RETRY_BASE_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '200',
    ...UNLIMITED_RATES,
    ...options.env,
  });
  await ensureDatabase(url);
  const { service, module } = await options.load();
  const app = await startHttpApp(service, module, 0, options.connect);
  return {
    app,
    url: await app.getUrl(),
    rabbitmqUrl: vhost.url,
    stop: async () => {
      await app.close();
      await dropDatabase(database);
      await vhost.remove();
    },
  };
}
