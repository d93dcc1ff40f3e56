import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogueProduct } from './catalogue-product.entity.js';
import { CatalogueHttpController } from './catalogue.http.controller.js';
import { GetCatalogueHandler } from './get-catalogue.query.js';

@Module({
  imports: [TypeOrmModule.forFeature([CatalogueProduct])],
  controllers: [CatalogueHttpController],
  providers: [GetCatalogueHandler],
  exports: [TypeOrmModule],
})
export class CatalogueModule {}
