import { bigintAsNumber } from '@ordering/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A product of the catalogue with its stock: `available` to sell, `reserved` for orders. */
@Entity('products')
export class Product {
  @PrimaryColumn('text')
  sku!: string;

  @Column('text')
  name!: string;

  /** In minor units of `currency`. */
  @Column('bigint', { transformer: bigintAsNumber })
  price!: number;

  @Column('text')
  currency!: string;

  @Column('integer')
  available!: number;

  @Column('integer')
  reserved!: number;

  /** Bumped on every change, and carried by `product.updated` so replicas drop stale ones. */
  @Column('integer')
  version!: number;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
