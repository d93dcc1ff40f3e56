import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Product } from './product.entity.js';
import { DemoCatalogueSeeder } from './demo-catalogue.seeder.js';
import { ProductCatalogue } from './product-catalogue.js';
import { ProductsHttpController } from './products.http.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([Product])],
  controllers: [ProductsHttpController],
  providers: [ProductCatalogue, DemoCatalogueSeeder],
})
export class ProductsModule {}
