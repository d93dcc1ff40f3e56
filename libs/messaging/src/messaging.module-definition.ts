import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface MessagingOptions {
  relayBatchSize: number;
  relayPollIntervalMs: number;
  outboxRetentionHours: number;
}

export const {
  ConfigurableModuleClass: ConfigurableMessagingModule,
  MODULE_OPTIONS_TOKEN: MESSAGING_OPTIONS,
} = new ConfigurableModuleBuilder<MessagingOptions>().setClassMethodName('forRoot').build();
