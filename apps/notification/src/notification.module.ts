import { Module } from '@nestjs/common';
import { PlatformModule } from '@ordering/platform';
import { notificationService } from './notification-service.definition.js';
import { NotifyingCustomerModule } from './notifying-customer/notifying-customer.module.js';

@Module({
  imports: [PlatformModule.forService(notificationService), NotifyingCustomerModule],
})
export class NotificationModule {}
