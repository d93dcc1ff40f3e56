import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { redactUrl } from '../connection-url.js';
import { Database } from '../database/database.js';
import { withTimeout } from '../with-timeout.js';

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class DatabaseHealthIndicator {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly database: Database,
  ) {}

  async check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(this.database.query('SELECT 1'), PING_TIMEOUT_MS, 'PostgreSQL');
      return indicator.up();
    } catch (error) {
      // Where the database is, and what the driver said, are for the operator's logs only.
      this.logger.warn(
        `PostgreSQL unreachable at ${redactUrl(this.database.url)}: ${(error as Error).message}`,
      );
      return indicator.down({ message: 'PostgreSQL unreachable' });
    }
  }
}
