import { Module } from '@nestjs/common';
import { PlatformModule } from '@ordering/platform';
import { notificationService } from './notification-service.definition.js';

@Module({
  imports: [PlatformModule.forService(notificationService)],
})
export class NotificationModule {}
