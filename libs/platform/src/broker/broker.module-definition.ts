import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface BrokerOptions {
  url: string;
  /** Named in the connection so the RabbitMQ management UI shows who is connected. */
  connectionName: string;
}

export const {
  ConfigurableModuleClass: ConfigurableBrokerModule,
  MODULE_OPTIONS_TOKEN: BROKER_OPTIONS,
} = new ConfigurableModuleBuilder<BrokerOptions>().setClassMethodName('forRoot').build();
