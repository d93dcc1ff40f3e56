import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import {
  ConfigurationError,
  environmentValidator,
  type ServiceEnvironment,
} from '../config/environment.js';
import type { ServiceDefinition } from '../service-definition.js';
import { preflight, UnreachableDependencyError } from './preflight.js';

/** Request bodies larger than this are refused with 413 before any parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts a service the way users run it: configuration and dependencies are checked first and
 * explained in plain words when wrong, then the Nest application starts and listens.
 */
export async function runService<E extends ServiceEnvironment>(
  service: ServiceDefinition<E>,
  appModule: Type,
  configure?: (app: NestExpressApplication) => void,
): Promise<NestExpressApplication> {
  let environment: E;
  try {
    environment = environmentValidator(service.environment)(process.env);
    await preflight({
      databaseUrl: environment[service.databaseUrlVariable] as string,
      databaseUrlVariable: service.databaseUrlVariable,
      rabbitmqUrl: environment.RABBITMQ_URL,
    });
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof UnreachableDependencyError) {
      console.error(`The ${service.name} service cannot start. ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  const app = await NestFactory.create<NestExpressApplication>(appModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: MAX_BODY_BYTES });
  app.enableShutdownHooks();
  configure?.(app);
  await app.listen(environment[service.httpPortVariable] as number);
  return app;
}
