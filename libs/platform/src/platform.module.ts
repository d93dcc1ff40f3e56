import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthModule } from './auth/auth.module.js';
import { Exchanges } from '@ordering/contracts';
import { BrokerModule } from './broker/broker.module.js';
import { Clock } from './clock.js';
import { environmentValidator, type ServiceEnvironment } from './config/environment.js';
import { DatabaseModule } from './database/database.module.js';
import { migrate } from './database/migrate.js';
import { postgresOptions } from './database/postgres-options.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { loggingModule } from './logging/logging.module.js';
import type { ServiceDefinition } from './service-definition.js';
import { TracingShutdown } from './tracing/tracing-shutdown.js';

/**
 * The plumbing every service shares: validated configuration, structured logs, its own
 * database (migrated on start) and the one way to run SQL on it, its broker connection,
 * bearer-token authentication of every HTTP route and `GET /health`.
 */
@Module({})
export class PlatformModule {
  static forService<E extends ServiceEnvironment>(service: ServiceDefinition<E>): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      providers: [Clock, TracingShutdown],
      exports: [Clock, AuthModule],
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          cache: true,
          validate: environmentValidator(service.environment),
        }),
        loggingModule(service.name),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) =>
            postgresOptions({
              url: config.getOrThrow<string>(service.databaseUrlVariable),
              migrations: service.migrations,
              applicationName: service.name,
              poolSize: config.getOrThrow<number>('DATABASE_POOL_SIZE'),
            }),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            try {
              await migrate(dataSource);
            } catch (error) {
              // TypeOrmModule tries again (retryAttempts) with a new one: this pool must not linger.
              await dataSource.destroy();
              throw error;
            }
            return dataSource;
          },
        }),
        DatabaseModule,
        BrokerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            urls: config.getOrThrow<string[]>('RABBITMQ_URL'),
            connectionName: service.name,
            exchanges: [Exchanges[service.name]],
          }),
        }),
        HealthModule,
        MetricsModule,
        // Every HTTP route requires a bearer token unless it is @Public().
        AuthModule,
      ],
    };
  }
}
