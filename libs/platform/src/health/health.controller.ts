import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { NotRateLimited } from '../http/rate-limits.js';
import { BrokerHealthIndicator } from './broker.health.js';
import { DatabaseHealthIndicator } from './database.health.js';

/**
 * For orchestrators and load balancers, which hold no token: `live` says the process answers (a
 * failing one is restarted), `ready` that its database and broker do (a failing one gets no
 * traffic); `/health` is `ready`, as it always was. Answers name what is down, never where it is.
 * Never rate-limited: a probe that gets a 429 would take a healthy instance out.
 */
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly broker: BrokerHealthIndicator,
  ) {}

  /** 200 while the process answers, whatever its dependencies do. */
  @Get('live')
  @NotRateLimited()
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** 200 when the database and the broker both answer; 503 naming the one that does not. */
  @Get(['', 'ready'])
  @NotRateLimited()
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.check('database'),
      () => this.broker.check('broker'),
    ]);
  }
}
