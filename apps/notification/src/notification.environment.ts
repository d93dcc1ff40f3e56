import { IsConnectionUrl, IsPort, ServiceEnvironment } from '@ordering/platform';
import { IsOptional, IsString, Matches, MinLength } from 'class-validator';

export class NotificationEnvironment extends ServiceEnvironment {
  @IsPort()
  NOTIFICATION_HTTP_PORT: number = 3002;

  @IsConnectionUrl(['postgres:', 'postgresql:'])
  NOTIFICATION_DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/ordering_notification';

  /** Where order details are fetched from (thin events carry only ids). */
  @IsConnectionUrl(['http:', 'https:'])
  ORDER_API_URL: string = 'http://127.0.0.1:3000';

  /** Deliver by e-mail through this server (smtp://user:pass@host:port); unset: to the log. */
  @IsOptional()
  @IsConnectionUrl(['smtp:', 'smtps:'])
  SMTP_URL?: string;

  @IsString()
  @MinLength(3)
  NOTIFICATION_FROM: string = 'Ordering <orders@ordering.example>';

  /** Customers are known by id: mail goes to <customer id>@<this domain>. */
  @Matches(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { message: 'must be a domain name' })
  NOTIFICATION_EMAIL_DOMAIN: string = 'customers.ordering.example';
}
