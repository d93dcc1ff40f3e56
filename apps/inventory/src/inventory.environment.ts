import { IsConnectionUrl, IsPort, ServiceEnvironment } from '@ordering/platform';

export class InventoryEnvironment extends ServiceEnvironment {
  @IsPort()
  INVENTORY_HTTP_PORT: number = 3001;

  @IsConnectionUrl(['postgres:', 'postgresql:'])
  INVENTORY_DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/ordering_inventory';
}
