import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_LINES, MAX_QUANTITY, MIN_QUANTITY } from '../domain/order.decider.js';

export class OrderItemRequest {
  @ApiProperty({ example: 'SKU-COFFEE-1KG', pattern: '^[A-Za-z0-9._-]{1,64}$' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: 'must be 1 to 64 letters, digits, ".", "_" or "-"',
  })
  sku!: string;

  @ApiProperty({ minimum: MIN_QUANTITY, maximum: MAX_QUANTITY, example: 2 })
  @IsInt()
  @Min(MIN_QUANTITY)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class PlaceOrderRequest {
  @ApiProperty({ type: [OrderItemRequest], minItems: 1, maxItems: MAX_LINES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LINES)
  @ValidateNested({ each: true })
  @Type(() => OrderItemRequest)
  items!: OrderItemRequest[];
}

export class PlaceOrderResponse {
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty({ enum: ['PENDING'] }) status!: 'PENDING';
}
