import { IsConnectionUrl, IsPort, ServiceEnvironment } from '@ordering/platform';

export class OrderEnvironment extends ServiceEnvironment {
  @IsPort()
  ORDER_HTTP_PORT: number = 3000;

  @IsConnectionUrl(['postgres:', 'postgresql:'])
  ORDER_DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/ordering_order';
}
