import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogueProduct } from './catalogue-product.entity.js';
import { CatalogueHttpController } from './catalogue.http.controller.js';
import { GetCatalogueHandler } from './get-catalogue.query.js';
import { ProductUpdatedConsumer } from './product-updated.consumer.js';

@Module({
  imports: [TypeOrmModule.forFeature([CatalogueProduct])],
  controllers: [CatalogueHttpController, ProductUpdatedConsumer],
  providers: [GetCatalogueHandler],
  exports: [TypeOrmModule],
})
export class CatalogueModule {}
