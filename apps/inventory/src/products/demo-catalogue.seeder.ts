import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { InventoryEnvironment } from '../inventory.environment.js';
import { ProductCatalogue } from './product-catalogue.js';

/** Stocks the demo catalogue when the service starts on an empty database (unless disabled). */
@Injectable()
export class DemoCatalogueSeeder implements OnApplicationBootstrap {
  constructor(
    private readonly catalogue: ProductCatalogue,
    private readonly config: ConfigService<InventoryEnvironment, true>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.get('INVENTORY_DEMO_CATALOGUE', { infer: true })) {
      await this.catalogue.seedDemoCatalogue();
    }
  }
}
