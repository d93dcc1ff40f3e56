import { IsConnectionUrl, IsPort, ServiceEnvironment } from '@ordering/platform';
import { Transform } from 'class-transformer';
import { IsBoolean } from 'class-validator';

export class InventoryEnvironment extends ServiceEnvironment {
  @IsPort()
  INVENTORY_HTTP_PORT: number = 3001;

  @IsConnectionUrl(['postgres:', 'postgresql:'])
  INVENTORY_DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/ordering_inventory';

  /** Stock the demo catalogue on an empty database. */
  // The raw text, not the implicit conversion: Boolean('false') would be true.
  @Transform(({ obj, key }) => ({ true: true, false: false })[String(obj[key])] ?? obj[key])
  @IsBoolean({ message: 'must be true or false' })
  INVENTORY_DEMO_CATALOGUE: boolean = true;
}
