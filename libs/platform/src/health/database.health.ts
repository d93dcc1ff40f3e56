import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { redactUrl } from '../connection-url.js';
import { withTimeout } from '../with-timeout.js';

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class DatabaseHealthIndicator {
  private readonly address: string;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
  ) {
    this.address = redactUrl((dataSource.options as { url?: string }).url ?? '');
  }

  async check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    const address = this.address;
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), PING_TIMEOUT_MS, 'PostgreSQL');
      return indicator.up({ address });
    } catch (error) {
      return indicator.down({
        message: `PostgreSQL unreachable at ${address}: ${(error as Error).message}`,
      });
    }
  }
}
