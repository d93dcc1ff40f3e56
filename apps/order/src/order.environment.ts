import { IsConnectionUrl, IsPort, ServiceEnvironment } from '@ordering/platform';
import { IsNumber, Max, Min } from 'class-validator';

export class OrderEnvironment extends ServiceEnvironment {
  @IsPort()
  ORDER_HTTP_PORT: number = 3000;

  @IsConnectionUrl(['postgres:', 'postgresql:'])
  ORDER_DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/ordering_order';

  /** Seconds an order waits for the inventory's answer before it is rejected. */
  @IsNumber({}, { message: 'must be a number of seconds' })
  @Min(0.1)
  @Max(86_400)
  ORDER_RESERVATION_TIMEOUT: number = 30;
}
