import { bigintAsNumber } from '@ordering/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The order service's own copy of a product, fed by the inventory's `product.updated` events:
 * orders are priced from here and placing one never calls another service.
 */
@Entity('catalogue_products')
export class CatalogueProduct {
  @PrimaryColumn('text')
  sku!: string;

  @Column('text')
  name!: string;

  /** In minor units of `currency`. */
  @Column('bigint', { transformer: bigintAsNumber })
  price!: number;

  @Column('text')
  currency!: string;

  /** Units the inventory had available when it last said: informative, never a promise. */
  @Column('integer')
  available!: number;

  /** The inventory's version of the product: older updates arriving late are ignored. */
  @Column('integer', { name: 'source_version' })
  sourceVersion!: number;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
