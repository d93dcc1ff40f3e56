import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Caller } from '@ordering/platform';
import { IsUUID } from 'class-validator';
import { DataSource } from 'typeorm';
import { Notification } from './notification.entity.js';

export class ListNotificationsRequest {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  orderId!: string;
}

export class NotificationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ enum: ['ORDER_CONFIRMED', 'ORDER_REJECTED', 'ORDER_CANCELLED'] }) kind!: string;
  @ApiProperty({ enum: ['log', 'smtp'] }) channel!: string;
  @ApiProperty({ enum: ['PENDING', 'SENT', 'FAILED'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty() time!: Date;
  @ApiProperty({ nullable: true, type: Date }) sentAt!: Date | null;
}

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('notifications')
export class NotificationsHttpController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'What was sent about an order (to admins, or to its customer)' })
  @ApiOkResponse({ type: [NotificationView] })
  async list(
    @Query() { orderId }: ListNotificationsRequest,
    @Caller() caller: Caller,
  ): Promise<NotificationView[]> {
    const notifications = await this.dataSource.getRepository(Notification).find({
      where: caller.isAdmin ? { orderId } : { orderId, customerId: caller.id },
      order: { createdAt: 'ASC' },
    });
    return notifications.map((n) => ({
      id: n.id,
      orderId: n.orderId,
      customerId: n.customerId,
      kind: n.kind,
      channel: n.channel,
      status: n.status,
      attempts: n.attempts,
      time: n.createdAt,
      sentAt: n.sentAt,
    }));
  }
}
