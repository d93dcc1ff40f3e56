import { IsConnectionUrl, IsPort, ServiceEnvironment } from '@ordering/platform';

export class NotificationEnvironment extends ServiceEnvironment {
  @IsPort()
  NOTIFICATION_HTTP_PORT: number = 3002;

  @IsConnectionUrl(['postgres:', 'postgresql:'])
  NOTIFICATION_DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/ordering_notification';
}
