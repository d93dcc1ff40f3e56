import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { stopTracing } from './tracing.js';

/**
 * Exports the spans still waiting once everything else has stopped (Nest calls this after the
 * HTTP server and the consumers have closed), so a stopping service's last work is not lost.
 */
@Injectable()
export class TracingShutdown implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return stopTracing();
  }
}
