import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import { declareTopology } from '@ordering/contracts';
import { redactUrl } from '../connection-url.js';
import { BROKER_OPTIONS, type BrokerOptions } from './broker.module-definition.js';

/**
 * The service's one connection to RabbitMQ. It reconnects by itself after the broker restarts
 * and declares the whole topology again on every (re)connect, so a wiped broker heals.
 */
@Injectable()
export class BrokerConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(BrokerConnection.name);
  readonly manager: AmqpConnectionManager;
  readonly channel: ChannelWrapper;

  constructor(@Inject(BROKER_OPTIONS) readonly options: BrokerOptions) {
    this.manager = amqp.connect([options.url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: 1,
      // A connection attempt that hangs (a half-open socket) must fail, or it blocks reconnecting.
      connectionOptions: {
        timeout: 5000,
        clientProperties: { connection_name: options.connectionName },
      },
    });
    this.manager.on('connect', () => this.logger.log(`Connected to RabbitMQ at ${this.address}`));
    this.manager.on('disconnect', ({ err }) =>
      this.logger.warn(`Lost RabbitMQ at ${this.address}: ${err?.message}; reconnecting`),
    );
    this.manager.on('connectFailed', ({ err }) =>
      this.logger.warn(`Cannot reach RabbitMQ at ${this.address}: ${err?.message}; retrying`),
    );
    this.channel = this.manager.createChannel({
      confirm: true,
      setup: (channel: ConfirmChannel) => declareTopology(channel),
    });
    // A setup cut short by a lost connection is redone on reconnect; unheard, it would crash.
    this.channel.on('error', (error: Error) =>
      this.logger.warn(
        `RabbitMQ topology not declared yet: ${error.message}; retrying on reconnect`,
      ),
    );
  }

  get address(): string {
    return redactUrl(this.options.url);
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.channel.close();
    await this.manager.close();
  }
}
