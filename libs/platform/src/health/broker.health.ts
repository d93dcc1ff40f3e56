import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BrokerConnection } from '../broker/broker-connection.js';

@Injectable()
export class BrokerHealthIndicator {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly broker: BrokerConnection,
  ) {}

  /** Down while the connection is, or while any channel the service uses is closed. */
  check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    const outages = this.broker.outages();
    if (outages.length === 0) return indicator.up();
    // Where the broker is, and why a channel closed, are for the operator's logs only.
    this.logger.warn(this.broker.problems().join('; '));
    return indicator.down({ message: outages.join('; ') });
  }
}
