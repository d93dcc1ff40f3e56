import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BrokerConnection } from '../broker/broker-connection.js';

@Injectable()
export class BrokerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly broker: BrokerConnection,
  ) {}

  /** Down while the connection is, or while any channel the service uses is closed. */
  check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    const problems = this.broker.problems();
    return problems.length === 0
      ? indicator.up()
      : indicator.down({ message: problems.join('; ') });
  }
}
