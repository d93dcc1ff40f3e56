import { Module } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IdempotencyKeys } from './idempotency-keys.js';

/** For services with routes that honour `Idempotency-Key`; their migrations must include the table. */
@Module({
  providers: [IdempotencyKeys, IdempotencyInterceptor],
  exports: [IdempotencyKeys, IdempotencyInterceptor],
})
export class IdempotencyModule {}
