import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/public.decorator.js';
import { NotRateLimited } from '../http/rate-limits.js';
import { metricsRegistry } from './metrics.js';

/**
 * For Prometheus, which holds no token: like `/health`, it is for the operator's network, not for
 * the public one (a reverse proxy in front of the API should not route it).
 */
@Public()
@Controller('metrics')
export class MetricsController {
  @Get()
  @NotRateLimited()
  @Header('Content-Type', metricsRegistry.contentType)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
