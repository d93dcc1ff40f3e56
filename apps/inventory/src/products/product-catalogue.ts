import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { createEvent, Exchanges, productUpdatedV1 } from '@ordering/contracts';
import { addToOutbox } from '@ordering/messaging';
import { Clock } from '@ordering/platform';
import { DataSource, In } from 'typeorm';
import { DEMO_CATALOGUE } from './demo-catalogue.js';
import { Product } from './product.entity.js';

export interface ProductInput {
  sku: string;
  name: string;
  price: number;
  currency: string;
  available: number;
}

/** `product.updated`: the whole product, so replicas never need to call back. */
export function productUpdated(
  product: Product,
  cause: { correlationid: string; causationid: string },
) {
  return {
    exchange: Exchanges.inventory,
    event: createEvent(productUpdatedV1, {
      id: randomUUID(),
      subject: product.sku,
      time: product.updatedAt.toISOString(),
      ...cause,
      data: {
        sku: product.sku,
        name: product.name,
        price: product.price,
        currency: product.currency,
        available: product.available,
        version: product.version,
        updatedAt: product.updatedAt.toISOString(),
      },
    }),
  };
}

/** The catalogue and its stock levels; every change is published as `product.updated`. */
@Injectable()
export class ProductCatalogue {
  private readonly logger = new Logger(ProductCatalogue.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  all(): Promise<Product[]> {
    return this.dataSource.getRepository(Product).find({ order: { sku: 'ASC' } });
  }

  find(sku: string): Promise<Product | null> {
    return this.dataSource.getRepository(Product).findOneBy({ sku });
  }

  /** Creates or updates a product; `available` is what may still be reserved. */
  put(input: ProductInput, changedBy: string): Promise<{ product: Product; created: boolean }> {
    return this.dataSource.transaction(async (tx) => {
      const products = tx.getRepository(Product);
      const existing = await products.findOne({
        where: { sku: input.sku },
        lock: { mode: 'pessimistic_write' },
      });
      const product = Object.assign(existing ?? new Product(), input, {
        reserved: existing?.reserved ?? 0,
        version: (existing?.version ?? 0) + 1,
        updatedAt: this.clock.now(),
      });
      await products.save(product);
      const cause = { correlationid: randomUUID(), causationid: `put-product:${changedBy}` };
      await addToOutbox(tx, [productUpdated(product, cause)]);
      return { product, created: existing === null };
    });
  }

  /** Stocks the demo catalogue on the first start; products that exist are left alone. */
  async seedDemoCatalogue(): Promise<number> {
    return this.dataSource.transaction(async (tx) => {
      const inserted: { sku: string }[] = await tx.query(
        `INSERT INTO products (sku, name, price, currency, available, updated_at)
         SELECT sku, name, price, 'EUR', available, $5
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) AS p(sku, name, price, available)
         ON CONFLICT (sku) DO NOTHING RETURNING sku`,
        [
          DEMO_CATALOGUE.map((p) => p.sku),
          DEMO_CATALOGUE.map((p) => p.name),
          DEMO_CATALOGUE.map((p) => p.price),
          DEMO_CATALOGUE.map((p) => p.available),
          this.clock.now(),
        ],
      );
      if (inserted.length === 0) return 0;
      const products = await tx
        .getRepository(Product)
        .findBy({ sku: In(inserted.map((p) => p.sku)) });
      const cause = { correlationid: randomUUID(), causationid: 'demo-catalogue' };
      await addToOutbox(
        tx,
        products.map((product) => productUpdated(product, cause)),
      );
      this.logger.log(`Stocked the demo catalogue: ${products.length} products`);
      return products.length;
    });
  }
}
