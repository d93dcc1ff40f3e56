import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { MixedList } from 'typeorm';
import { connectionSettings, GuardedClient } from './connection-settings.js';

export interface PostgresOptions {
  url: string;
  /** Every migration class of the service, in order: listed, never globbed, so bundling is safe. */
  migrations: MixedList<Function>;
  /** Shown in `pg_stat_activity`, which makes a busy server easy to read. */
  applicationName: string;
  poolSize?: number;
}

/**
 * The pool's settings (pg.Pool options): every connection it makes is a GuardedClient with the
 * service's connection settings. Tests build their DataSources with it too.
 */
export function poolSettings(url: string, applicationName: string, poolSize = 10) {
  return { ...connectionSettings(url, applicationName), Client: GuardedClient, max: poolSize };
}

/**
 * TypeORM options for a service's own database: never `synchronize`d; migrated on start by
 * `migrate`, one instance at a time (PlatformModule's data source factory).
 */
export function postgresOptions(options: PostgresOptions): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: options.url,
    applicationName: options.applicationName,
    migrations: options.migrations,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    synchronize: false,
    autoLoadEntities: true,
    retryAttempts: 10,
    retryDelay: 2000,
    extra: poolSettings(options.url, options.applicationName, options.poolSize),
  };
}
