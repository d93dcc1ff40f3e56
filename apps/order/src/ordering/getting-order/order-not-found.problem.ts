import { ProblemException } from '@ordering/platform';

/** The one answer for an order that does not exist or that the caller may not see. */
export const orderNotFound = (orderId: string, when = '') =>
  new ProblemException(404, {
    type: 'order-not-found',
    title: `Order ${orderId} does not exist${when}`,
  });
