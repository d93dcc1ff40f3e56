import type { INestApplicationContext } from '@nestjs/common';
import { productUpdatedV1, type ProductUpdatedV1 } from '@ordering/contracts';
import { Database } from '@ordering/platform';
import { testEvent } from '@ordering/testing';
import { ProductUpdatedConsumer } from './product-updated.consumer.js';

export type ReplicatedProduct = Omit<ProductUpdatedV1, 'version' | 'updatedAt'>;

/**
 * Puts products in a running order service's catalogue replica the way the inventory does: as
 * `product.updated` events, applied by the replica's own consumer, in one transaction. For tests
 * that start the order service without a broker and need something to order.
 */
export async function replicateProducts(
  app: INestApplicationContext,
  products: readonly ReplicatedProduct[],
): Promise<void> {
  const consumer = app.get(ProductUpdatedConsumer);
  const now = new Date().toISOString();
  await app.get(Database).transaction(
    async (tx) => {
      for (const product of products) {
        const event = testEvent(productUpdatedV1, { ...product, version: 1, updatedAt: now });
        await consumer.replicate(event)(tx);
      }
    },
    { label: 'replicate products' },
  );
}
