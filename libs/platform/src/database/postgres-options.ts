import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { MixedList } from 'typeorm';

export interface PostgresOptions {
  url: string;
  /** Every migration class of the service, in order: listed, never globbed, so bundling is safe. */
  migrations: MixedList<Function>;
  /** Shown in `pg_stat_activity`, which makes a busy server easy to read. */
  applicationName: string;
  poolSize?: number;
}

/** TypeORM options for a service's own database: migrated on start, never `synchronize`d. */
export function postgresOptions(options: PostgresOptions): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: options.url,
    applicationName: options.applicationName,
    migrations: options.migrations,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    autoLoadEntities: true,
    retryAttempts: 10,
    retryDelay: 2000,
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
    },
  };
}
