import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { CatalogueProduct } from './catalogue-product.entity.js';

export class GetCatalogueQuery extends Query<CatalogueProduct[]> {}

@QueryHandler(GetCatalogueQuery)
export class GetCatalogueHandler implements IQueryHandler<GetCatalogueQuery> {
  constructor(
    @InjectRepository(CatalogueProduct) private readonly products: Repository<CatalogueProduct>,
  ) {}

  execute(): Promise<CatalogueProduct[]> {
    return this.products.find({ order: { sku: 'ASC' } });
  }
}
