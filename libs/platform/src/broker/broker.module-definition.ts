import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface BrokerOptions {
  /** The broker, or the nodes of a cluster: connected to one at a time, in turn. */
  urls: readonly string[];
  /** Named in the connection so the RabbitMQ management UI shows who is connected. */
  connectionName: string;
  /**
   * The exchanges this service publishes to (its own), declared on every connect. Everything
   * else it uses is declared by its consumers or, as a whole, by `scripts/broker-setup.mjs`.
   */
  exchanges: readonly string[];
}

export const {
  ConfigurableModuleClass: ConfigurableBrokerModule,
  MODULE_OPTIONS_TOKEN: BROKER_OPTIONS,
} = new ConfigurableModuleBuilder<BrokerOptions>().setClassMethodName('forRoot').build();
