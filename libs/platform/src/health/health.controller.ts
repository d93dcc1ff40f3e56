import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { BrokerHealthIndicator } from './broker.health.js';
import { DatabaseHealthIndicator } from './database.health.js';

// Probes (orchestrators, load balancers) hold no token.
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly broker: BrokerHealthIndicator,
  ) {}

  /** 200 when the database and the broker both answer; 503 naming the one that does not. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.database.check('database'),
      () => this.broker.check('broker'),
    ]);
  }
}
