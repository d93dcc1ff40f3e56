import { Module } from '@nestjs/common';
import { ReservationLocks } from './reservation-locks.js';
import { StockConsumer } from './stock.consumer.js';

@Module({ controllers: [StockConsumer], providers: [ReservationLocks] })
export class StockModule {}
