import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { redactUrl } from '../connection-url.js';
import { Database } from '../database/database.js';
import { withTimeout } from '../with-timeout.js';

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly database: Database,
  ) {}

  async check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    const address = redactUrl(this.database.url);
    try {
      await withTimeout(this.database.query('SELECT 1'), PING_TIMEOUT_MS, 'PostgreSQL');
      return indicator.up({ address });
    } catch (error) {
      return indicator.down({
        message: `PostgreSQL unreachable at ${address}: ${(error as Error).message}`,
      });
    }
  }
}
