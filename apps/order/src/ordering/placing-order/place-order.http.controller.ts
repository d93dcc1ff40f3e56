import { Body, Controller, HttpCode, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Caller, IdempotencyInterceptor, requestMetadata } from '@ordering/platform';
import type { Request, Response } from 'express';
import { OrderRuleBroken } from '../domain/order-rule-broken.js';
import { GetOrderQuery } from '../getting-order/get-order.query.js';
import { OrderProblemsInterceptor } from '../order-problems.interceptor.js';
import { orderIdFor } from './order-id.js';
import { PlaceOrderCommand } from './place-order.command.js';
import { PlaceOrderRequest, PlaceOrderResponse } from './place-order.request.js';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseInterceptors(OrderProblemsInterceptor)
export class PlaceOrderHttpController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(202)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({ summary: 'Place an order for the caller, priced from the local catalogue' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Retry safely with it' })
  @ApiAcceptedResponse({ type: PlaceOrderResponse, description: 'Placed; confirmation follows' })
  async place(
    @Body() request: PlaceOrderRequest,
    @Caller() caller: Caller,
    @Req() http: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PlaceOrderResponse> {
    const orderId = orderIdFor(caller.id, http.header('idempotency-key'));
    let version: number;
    try {
      ({ version } = await this.commands.execute(
        new PlaceOrderCommand(orderId, caller.id, request.items, requestMetadata(http, caller)),
      ));
    } catch (error) {
      // Only a retry whose first attempt placed the order but died before answering gets here.
      const placed =
        error instanceof OrderRuleBroken && error.rule === 'ORDER_EXISTS'
          ? await this.queries.execute(new GetOrderQuery(orderId, caller))
          : null;
      if (!placed) throw error;
      version = placed.version;
    }
    response.setHeader('Location', `/orders/${orderId}`);
    response.setHeader('ETag', `"${version}"`);
    return { orderId, status: 'PENDING' };
  }
}
