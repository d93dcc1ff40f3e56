import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BrokerConnection } from '../broker/broker-connection.js';

@Injectable()
export class BrokerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly broker: BrokerConnection,
  ) {}

  check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    return this.broker.isConnected()
      ? indicator.up({ address: this.broker.address })
      : indicator.down({ message: `RabbitMQ unreachable at ${this.broker.address}` });
  }
}
