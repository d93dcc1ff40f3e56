import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Notification } from './notification.entity.js';
import { ConfigService } from '@nestjs/config';
import type { NotificationEnvironment } from '../notification.environment.js';
import { DeliveryChannel } from './channels/delivery-channel.js';
import { LogChannel } from './channels/log.channel.js';
import { SmtpChannel } from './channels/smtp.channel.js';
import { DeliveryWorker } from './delivery-worker.js';
import { NotificationsHttpController } from './notifications.http.controller.js';
import { OrderApiClient } from './order-api.client.js';
import { OrderLifecycleConsumer } from './order-lifecycle.consumer.js';
import { OrderReplicas } from './order-replicas.js';

@Module({
  imports: [TypeOrmModule.forFeature([Notification])],
  controllers: [OrderLifecycleConsumer, NotificationsHttpController],
  providers: [
    OrderApiClient,
    OrderReplicas,
    DeliveryWorker,
    {
      provide: DeliveryChannel,
      inject: [ConfigService],
      useFactory: (config: ConfigService<NotificationEnvironment, true>) => {
        const smtp = config.get('SMTP_URL', { infer: true });
        return smtp
          ? new SmtpChannel(smtp, config.get('NOTIFICATION_FROM', { infer: true }))
          : new LogChannel();
      },
    },
  ],
})
export class NotifyingCustomerModule {}
