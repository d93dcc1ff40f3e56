import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { createEvent, Exchanges, productUpdatedV1 } from '@ordering/contracts';
import { addToOutbox } from '@ordering/messaging';
import { Clock, currentTraceparent, Database } from '@ordering/platform';
import { DataSource } from 'typeorm';
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
  cause: { correlationid: string; causationid: string; traceparent?: string },
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
    private readonly database: Database,
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
    return this.database.transaction(
      async (tx) => {
        const [row] = await tx.query<ProductRow>(
          `INSERT INTO products (sku, name, price, currency, available, reserved, version, updated_at)
           VALUES ($1, $2, $3, $4, $5, 0, 1, $6)
           ON CONFLICT (sku) DO UPDATE SET name = excluded.name, price = excluded.price,
             currency = excluded.currency, available = excluded.available,
             version = products.version + 1, updated_at = excluded.updated_at
           RETURNING ${PRODUCT_COLUMNS}, (xmax = 0) AS created`,
          [input.sku, input.name, input.price, input.currency, input.available, this.clock.now()],
        );
        const product = productOf(row);
        const cause = {
          correlationid: randomUUID(),
          causationid: `put-product:${changedBy}`,
          // The PUT's span when tracing: the replicas' updates join the request's trace.
          traceparent: currentTraceparent(),
        };
        await addToOutbox(tx, [productUpdated(product, cause)]);
        return { product, created: row.created };
      },
      { label: 'put product' },
    );
  }

  /** Stocks the demo catalogue on the first start; products that exist are left alone. */
  async seedDemoCatalogue(): Promise<number> {
    return this.database.transaction(
      async (tx) => {
        const inserted = await tx.query<ProductRow>(
          `INSERT INTO products (sku, name, price, currency, available, updated_at)
           SELECT sku, name, price, 'EUR', available, $5
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[])
             AS p(sku, name, price, available)
           ON CONFLICT (sku) DO NOTHING RETURNING ${PRODUCT_COLUMNS}`,
          [
            DEMO_CATALOGUE.map((p) => p.sku),
            DEMO_CATALOGUE.map((p) => p.name),
            DEMO_CATALOGUE.map((p) => p.price),
            DEMO_CATALOGUE.map((p) => p.available),
            this.clock.now(),
          ],
        );
        if (inserted.length === 0) return 0;
        const cause = { correlationid: randomUUID(), causationid: 'demo-catalogue' };
        await addToOutbox(
          tx,
          inserted.map((row) => productUpdated(productOf(row), cause)),
        );
        this.logger.log(`Stocked the demo catalogue: ${inserted.length} products`);
        return inserted.length;
      },
      { label: 'seed demo catalogue' },
    );
  }
}

const PRODUCT_COLUMNS = 'sku, name, price, currency, available, reserved, version, updated_at';

interface ProductRow {
  sku: string;
  name: string;
  price: string;
  currency: string;
  available: number;
  reserved: number;
  version: number;
  updated_at: Date;
  created: boolean;
}

function productOf(row: ProductRow): Product {
  return Object.assign(new Product(), {
    sku: row.sku,
    name: row.name,
    price: Number(row.price),
    currency: row.currency,
    available: row.available,
    reserved: row.reserved,
    version: row.version,
    updatedAt: row.updated_at,
  });
}
