import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ConcurrencyError } from '@ordering/event-store';
import { headerOf, type HttpRequest, ProblemException } from '@ordering/platform';
import { catchError, throwError, type Observable } from 'rxjs';
import { OrderRuleBroken, type OrderRule } from './domain/order-rule-broken.js';

const STATUS_BY_RULE: Record<OrderRule, number> = {
  DUPLICATE_SKU: 422,
  UNKNOWN_SKUS: 422,
  MIXED_CURRENCIES: 422,
  ORDER_EXISTS: 409,
  ORDER_NOT_FOUND: 404,
  ORDER_IS_FINAL: 409,
  NOT_PENDING: 409,
};

/**
 * The one answer for an order that does not exist or that the caller may not see (orderAccess),
 * from every route: the same type and title whether a query found nothing or a command was
 * refused, so an order id reveals nothing.
 */
export const orderNotFound = (orderId: string, when = '') =>
  new ProblemException(404, {
    type: 'order-not-found',
    title: `Order ${orderId} does not exist${when}`,
  });

/** Turns the order's refusals into problem details that name the rule and what broke it. */
export function toProblem(error: unknown, request: HttpRequest): unknown {
  if (error instanceof OrderRuleBroken && error.rule === 'ORDER_NOT_FOUND') {
    return orderNotFound(String(error.details.orderId));
  }
  if (error instanceof OrderRuleBroken) {
    return new ProblemException(STATUS_BY_RULE[error.rule], {
      type: error.rule.toLowerCase().replaceAll('_', '-'),
      title: error.message,
      rule: error.rule,
      ...error.details,
    });
  }
  if (error instanceof ConcurrencyError) {
    return headerOf(request, 'if-match')
      ? new ProblemException(412, {
          type: 'precondition-failed',
          title: 'The order has changed since the version given in If-Match',
          detail: `The order is at version ${error.actualVersion}; read it again and retry.`,
          currentVersion: error.actualVersion,
        })
      : new ProblemException(409, {
          type: 'concurrent-change',
          title: 'The order kept changing while this request was applied; retry it',
        });
  }
  return error;
}

@Injectable()
export class OrderProblemsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    return next.handle().pipe(catchError((error) => throwError(() => toProblem(error, request))));
  }
}
