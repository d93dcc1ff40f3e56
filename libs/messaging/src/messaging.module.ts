import { Module } from '@nestjs/common';
import { ConfigurableMessagingModule } from './messaging.module-definition.js';
import { OutboxRelay } from './outbox/outbox-relay.js';

/** The producing side of a service: its outbox relay. */
@Module({ providers: [OutboxRelay], exports: [OutboxRelay] })
export class MessagingModule extends ConfigurableMessagingModule {}
