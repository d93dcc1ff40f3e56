import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError } from 'rxjs';

/**
 * Hands a message handler's error to the transport as thrown. Nest's default RPC filter would
 * replace it with "Internal server error", and the dead letter would lose its real reason.
 */
@Catch()
export class PassHandlerErrorsThrough implements RpcExceptionFilter {
  catch(exception: unknown) {
    return throwError(() => exception);
  }
}
