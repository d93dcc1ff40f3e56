import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ORDER_API_ROLES } from '@ordering/contracts';
import {
  BearerTokens,
  DependencyUnavailableError,
  runInSpan,
  SpanKind,
  startChildSpan,
  traceparentOf,
} from '@ordering/platform';
import type { NotificationEnvironment } from '../notification.environment.js';
import type { OrderDetails } from './domain/notification-message.js';

const TOKEN_TTL_SECONDS = 300;
/** Answers that say "not now" rather than "no". */
const UNAVAILABLE = new Set([429, 502, 503, 504]);

/**
 * Asks the order API for what thin events leave out, as the notification service itself: a
 * short-lived token it signs with the shared JWT_SECRET, whose one role (order-reader) lets it
 * read an order and nothing else. An order API that cannot be reached, or that
 * answers it is unavailable, throws DependencyUnavailableError: the message waits for it without
 * using up its retries. Any other failure throws a plain error, and counts.
 */
@Injectable()
export class OrderApiClient {
  private token?: { value: string; expiresAt: number };
  private readonly baseUrl: string;
  private readonly host: string;

  constructor(
    private readonly tokens: BearerTokens,
    config: ConfigService<NotificationEnvironment, true>,
  ) {
    this.baseUrl = config.get('ORDER_API_URL', { infer: true }).replace(/\/$/, '');
    this.host = new URL(this.baseUrl).hostname;
  }

  /** In a CLIENT span of its own, whose context the order service's request span continues. */
  order(orderId: string, correlationId: string): Promise<OrderDetails> {
    const span = startChildSpan('GET /orders/:orderId', {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'GET',
        'server.address': this.host,
        'url.full': `${this.baseUrl}/orders/${orderId}`,
      },
    });
    return runInSpan(span, async () => {
      const traceparent = traceparentOf(span);
      const response = await this.fetchOrder(orderId, {
        authorization: `Bearer ${await this.serviceToken()}`,
        'x-correlation-id': correlationId,
        ...(traceparent ? { traceparent } : {}),
      });
      span.setAttribute('http.response.status_code', response.status);
      return this.detailsFrom(orderId, response);
    });
  }

  private async fetchOrder(orderId: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}/orders/${orderId}`, {
        headers,
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      throw new DependencyUnavailableError(
        `The order API at ${this.baseUrl} cannot be reached: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async detailsFrom(orderId: string, response: Response): Promise<OrderDetails> {
    if (UNAVAILABLE.has(response.status)) {
      throw new DependencyUnavailableError(
        `The order API answered ${response.status} for order ${orderId}`,
      );
    }
    if (!response.ok) {
      throw new Error(`The order API answered ${response.status} for order ${orderId}`);
    }
    return (await response.json()) as OrderDetails;
  }

  private async serviceToken(): Promise<string> {
    const now = Date.now() / 1000;
    if (!this.token || this.token.expiresAt - now < 30) {
      this.token = {
        value: await this.tokens.sign(
          'notification-service',
          [ORDER_API_ROLES.orderReader],
          TOKEN_TTL_SECONDS,
        ),
        expiresAt: now + TOKEN_TTL_SECONDS,
      };
    }
    return this.token.value;
  }
}
