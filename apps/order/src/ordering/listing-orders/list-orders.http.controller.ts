import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Caller, ProblemException } from '@ordering/platform';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import type { OrderStatus } from '../domain/order.js';
import { OrderView, toOrderView } from '../getting-order/order.view.js';
import { ListOrdersQuery, type OrderCursor } from './list-orders.query.js';

const MAX_PAGE = 100;
const STATUSES: OrderStatus[] = ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'];

export class ListOrdersRequest {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Transform(({ value }: { value: number }) => Math.min(value, MAX_PAGE))
  limit: number = 20;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ description: 'Admins only: one customer’s orders', maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  customerId?: string;
}

export class OrderPage {
  @ApiProperty({ type: [OrderView] }) items!: OrderView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}

const encodeCursor = ({ createdAt, orderId }: OrderCursor) =>
  Buffer.from(`${createdAt.toISOString()}|${orderId}`).toString('base64url');

function decodeCursor(cursor: string): OrderCursor {
  const [time, orderId] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(time);
  if (!orderId || !/^[0-9a-f-]{36}$/.test(orderId) || Number.isNaN(createdAt.getTime())) {
    throw new ProblemException(400, {
      type: 'validation-failed',
      title: 'Invalid cursor',
      errors: [{ field: 'cursor', message: 'must be a nextCursor returned by this endpoint' }],
    });
  }
  return { createdAt, orderId };
}

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
export class ListOrdersHttpController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The caller’s orders, newest first, a page at a time' })
  @ApiOkResponse({ type: OrderPage })
  async list(@Query() request: ListOrdersRequest, @Caller() caller: Caller): Promise<OrderPage> {
    if (request.customerId !== undefined && !caller.isAdmin) {
      throw new ProblemException(403, {
        type: 'forbidden',
        title: 'Only admins may list another customer’s orders',
        errors: [{ field: 'customerId', message: 'is for admins only' }],
      });
    }
    const { orders, next } = await this.queries.execute(
      new ListOrdersQuery(
        caller,
        { status: request.status, customerId: request.customerId },
        request.limit,
        request.cursor === undefined ? null : decodeCursor(request.cursor),
      ),
    );
    return { items: orders.map(toOrderView), nextCursor: next && encodeCursor(next) };
  }
}
