import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { CloudEvent, ProductUpdatedV1 } from '@ordering/contracts';
import type { MessageEffect } from '@ordering/messaging';

/**
 * Keeps the catalogue replica current from the inventory's `product.updated` (event-carried
 * state transfer). Updates can arrive late or twice: one older than the replica is dropped.
 */
@Controller()
export class ProductUpdatedConsumer {
  @EventPattern<string>('product.updated')
  replicate(@Payload() event: CloudEvent<ProductUpdatedV1>): MessageEffect {
    const { sku, name, price, currency, available, version, updatedAt } = event.data;
    return async (tx) => {
      await tx.query(
        `INSERT INTO catalogue_products (sku, name, price, currency, available, source_version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price = excluded.price,
           currency = excluded.currency, available = excluded.available,
           source_version = excluded.source_version, updated_at = excluded.updated_at
         WHERE catalogue_products.source_version < excluded.source_version`,
        [sku, name, price, currency, available, version, updatedAt],
      );
    };
  }
}
