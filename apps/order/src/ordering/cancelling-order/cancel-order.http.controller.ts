import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Post,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
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
  invalidHeader,
  requestMetadata,
  respondWith,
  UuidParam,
} from '@ordering/platform';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { OrderProblemsInterceptor } from '../order-problems.interceptor.js';
import { cancellationResponse, CancelOrderCommand } from './cancel-order.command.js';

export class CancelOrderRequest {
  @ApiPropertyOptional({ maxLength: 500, example: 'Ordered by mistake' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason?: string;
}

export class CancelOrderResponse {
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty({ enum: ['CANCELLED'] }) status!: 'CANCELLED';
  @ApiProperty() version!: number;
}

/** `"3"` (or `W/"3"`) gives 3; `*` or no header gives no precondition. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  if (!match) {
    throw invalidHeader('If-Match', {
      type: 'invalid-if-match',
      detail: 'If-Match takes the ETag of the order, for example "3".',
      message: 'must be an ETag such as "3"',
    });
  }
  return Number(match[1]);
}

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseInterceptors(OrderProblemsInterceptor)
export class CancelOrderHttpController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':orderId/cancel')
  @HttpCode(202)
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({ summary: 'Cancel one of the caller’s orders; reserved stock is released' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Cancel only at this version: the ETag of the order, such as "3"',
    schema: { type: 'string', maxLength: 16, pattern: '^(\\*|(W/)?"\\d{1,9}")$' },
  })
  @ApiIdempotencyKey()
  @ApiAcceptedResponse({ type: CancelOrderResponse })
  async cancel(
    @UuidParam('orderId') orderId: string,
    @Body() request: CancelOrderRequest,
    @Headers('if-match') ifMatch: string | undefined,
    @Caller() caller: Caller,
    @Idempotency() idempotency: IdempotentRequest | undefined,
    @Req() http: HttpRequest,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<CancelOrderResponse> {
    const { version } = await this.commands.execute(
      new CancelOrderCommand(
        orderId,
        caller,
        request.reason ?? 'Cancelled by the customer',
        parseIfMatch(ifMatch),
        requestMetadata(http, caller),
        idempotency,
      ),
    );
    return respondWith(response, cancellationResponse(orderId, version)) as CancelOrderResponse;
  }
}
