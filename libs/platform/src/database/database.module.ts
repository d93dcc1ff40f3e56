import { Global, Module } from '@nestjs/common';
import { Database } from './database.js';

/** Provides the service's Database, on the DataSource of its TypeOrmModule. */
@Global()
@Module({ providers: [Database], exports: [Database] })
export class DatabaseModule {}
