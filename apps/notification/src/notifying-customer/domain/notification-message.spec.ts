import { describe, expect, it } from '@jest/globals';
import { renderNotification, type OrderDetails } from './notification-message.js';

const order: OrderDetails = {
  orderId: '5f0c4c5e-8a4b-4c8e-9a57-0d7e6f1a2b3c',
  customerId: 'c-1',
  status: 'CONFIRMED',
  items: [
    { sku: 'MUG-CERAMIC', quantity: 2, unitPrice: 1200 },
    { sku: 'COFFEE-BEANS-1KG', quantity: 1, unitPrice: 1899 },
  ],
  total: 4299,
  currency: 'EUR',
};

describe('rendering a customer notification', () => {
  it('confirms with the lines and the total in money', () => {
    const message = renderNotification('ORDER_CONFIRMED', order);
    expect(message.subject).toBe('Your order 5F0C4C5E is confirmed');
    expect(message.body).toContain('2 × MUG-CERAMIC at 12.00 EUR');
    expect(message.body).toContain('Total: 42.99 EUR');
  });

  it('explains a rejection for lack of stock, listing the short lines', () => {
    const message = renderNotification('ORDER_REJECTED', {
      ...order,
      status: 'REJECTED',
      reason: 'OUT_OF_STOCK',
      shortLines: [{ sku: 'MUG-CERAMIC', requested: 2, available: 1 }],
    });
    expect(message.body).toContain('because some items are out of stock');
    expect(message.body).toContain('MUG-CERAMIC: 2 requested, 1 available');
  });

  it('explains a rejection because the stock could not be confirmed in time', () => {
    const message = renderNotification('ORDER_REJECTED', {
      ...order,
      reason: 'RESERVATION_TIMEOUT',
    });
    expect(message.body).toContain('we could not confirm the stock in time');
  });

  it('confirms a cancellation with its reason', () => {
    const message = renderNotification('ORDER_CANCELLED', {
      ...order,
      reason: 'Ordered by mistake',
    });
    expect(message.subject).toBe('Your order 5F0C4C5E is cancelled');
    expect(message.body).toContain('is cancelled (Ordered by mistake)');
  });
});
