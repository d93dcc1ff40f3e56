import { Body, Controller, HttpCode, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiIdempotencyKey,
  Caller,
  Idempotency,
  IdempotencyInterceptor,
  type HttpRequest,
  type HttpResponse,
  type IdempotentRequest,
  requestMetadata,
  respondWith,
} from '@ordering/platform';
import { OrderProblemsInterceptor } from '../order-problems.interceptor.js';
import { orderIdFor } from './order-id.js';
import { PlaceOrderCommand, placementResponse } from './place-order.command.js';
import {
  placeOrderBody,
  type PlaceOrderRequest,
  PlaceOrderResponse,
} from './place-order.request.js';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseInterceptors(OrderProblemsInterceptor)
export class PlaceOrderHttpController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(202)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({ summary: 'Place an order for the caller, priced from the local catalogue' })
  @ApiIdempotencyKey()
  @ApiBody({ schema: placeOrderBody.openApi })
  @ApiAcceptedResponse({ type: PlaceOrderResponse, description: 'Placed; confirmation follows' })
  async place(
    @Body(placeOrderBody) request: PlaceOrderRequest,
    @Caller() caller: Caller,
    @Idempotency() idempotency: IdempotentRequest | undefined,
    @Req() http: HttpRequest,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<PlaceOrderResponse> {
    // With a key, the order id is derived from it: a retry can never place a second order.
    const orderId = orderIdFor(caller.id, idempotency?.key);
    const { version } = await this.commands.execute(
      new PlaceOrderCommand(
        orderId,
        caller.id,
        request.items,
        requestMetadata(http, caller),
        idempotency,
      ),
    );
    return respondWith(response, placementResponse(orderId, version)) as PlaceOrderResponse;
  }
}
