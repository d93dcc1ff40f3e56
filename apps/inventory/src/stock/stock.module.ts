import { Module } from '@nestjs/common';
import { StockConsumer } from './stock.consumer.js';

@Module({ controllers: [StockConsumer] })
export class StockModule {}
