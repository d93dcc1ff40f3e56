import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { collectDefaultMetrics } from 'prom-client';
import { Database } from '../database/database.js';
import { MetricsController } from './metrics.controller.js';
import { metricsRegistry, readOnScrape } from './metrics.js';

/** The connection pool's use, read at every scrape: a pool always full is a pool too small. */
@Injectable()
class PoolMetrics implements OnApplicationShutdown {
  private readonly removals: (() => void)[];

  constructor(database: Database) {
    this.removals = [
      readOnScrape(
        'db_client_connection_count',
        'Connections of the database pool, by state (idle or used).',
        ['state'],
        (gauge) => {
          const { total, idle } = database.poolUsage();
          gauge.set({ state: 'idle' }, idle);
          gauge.set({ state: 'used' }, total - idle);
        },
      ),
      readOnScrape(
        'db_client_connection_max',
        'Connections the database pool may open (DATABASE_POOL_SIZE).',
        [],
        (gauge) => gauge.set(database.poolUsage().max),
      ),
      readOnScrape(
        'db_client_connection_pending_requests',
        'Work waiting for a connection of the database pool.',
        [],
        (gauge) => gauge.set(database.poolUsage().waiting),
      ),
    ];
  }

  onApplicationShutdown(): void {
    for (const remove of this.removals) remove();
  }
}

/** `GET /metrics`, the process's own metrics (CPU, memory, event loop lag) and the pool's. */
@Module({ controllers: [MetricsController], providers: [PoolMetrics] })
export class MetricsModule {
  constructor() {
    // Once per process, even when tests start several services in one.
    if (!metricsRegistry.getSingleMetric('process_cpu_seconds_total')) collectDefaultMetrics();
  }
}
