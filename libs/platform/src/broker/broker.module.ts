import { Global, Module } from '@nestjs/common';
import { BrokerConnection } from './broker-connection.js';
import { ConfigurableBrokerModule } from './broker.module-definition.js';

@Global()
@Module({ providers: [BrokerConnection], exports: [BrokerConnection] })
export class BrokerModule extends ConfigurableBrokerModule {}
