import 'reflect-metadata';
import { runService } from '@ordering/platform';
import { orderService } from './order-service.definition.js';
import { OrderModule } from './order.module.js';

await runService(orderService, OrderModule);
