import type { LoggerService, Type } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AuthModule } from '../auth/auth.module.js';
import { configureHttpApp, httpAdapter } from '../bootstrap/run-service.js';
import { environmentValidator, ServiceEnvironment } from '../config/environment.js';

/**
 * The HTTP surface every service has (configureHttpApp + AuthModule), around a test's own
 * controller, configured by `environment` as a service would be, on a port of its own.
 */
export async function startHttpSurface(
  controller: Type,
  environment: Record<string, string>,
  logger: LoggerService | false = false,
): Promise<{ app: NestFastifyApplication; base: string }> {
  const settings = environmentValidator(ServiceEnvironment)(environment);
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        skipProcessEnv: true,
        load: [() => ({ ...settings })],
      }),
      AuthModule,
    ],
    controllers: [controller],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    httpAdapter(settings.TRUST_PROXY),
    { bodyParser: false, logger },
  );
  await configureHttpApp(app, { title: 'test service', description: 'For tests', version: '1' });
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl() };
}
