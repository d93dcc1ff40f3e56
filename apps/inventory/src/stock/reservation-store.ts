import type { Transaction } from '@ordering/platform';
import type {
  RequestedLine,
  ReservationState,
  ShortLine,
  StockLevel,
} from './domain/reservation.js';

/**
 * The SQL side of reservations. Every function runs in the consumer's transaction; callers take
 * the order's lock first, so one order's messages are applied one at a time.
 */
export const reservations = {
  async lockOrder(tx: Transaction, orderId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`reservation:${orderId}`]);
  },

  /** Several orders' locks at once, always in the same (sorted) order. */
  async lockOrders(tx: Transaction, orderIds: readonly string[]): Promise<void> {
    await tx.query(
      `SELECT pg_advisory_xact_lock(hashtext(k))
       FROM (SELECT DISTINCT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted`,
      [orderIds.map((orderId) => `reservation:${orderId}`)],
    );
  },

  /** The products the orders' current reservations hold. */
  async skusHeldBy(tx: Transaction, orderIds: readonly string[]): Promise<string[]> {
    if (orderIds.length === 0) return [];
    const rows = await tx.query<{ sku: string }>(
      `SELECT DISTINCT line ->> 'sku' AS sku FROM reservations, jsonb_array_elements(lines) AS line
       WHERE order_id = ANY($1::uuid[]) AND status = 'RESERVED'`,
      [orderIds],
    );
    return rows.map((row) => row.sku);
  },

  async state(tx: Transaction, orderId: string): Promise<ReservationState> {
    const [row] = await tx.query<{
      status: ReservationState['status'];
      lines: RequestedLine[];
      short_lines: ShortLine[];
    }>('SELECT status, lines, short_lines FROM reservations WHERE order_id = $1', [orderId]);
    if (!row) return { status: 'NONE' };
    switch (row.status) {
      case 'RESERVED':
      case 'RELEASED':
        return { status: row.status, lines: row.lines };
      case 'REFUSED':
        return { status: 'REFUSED', shortLines: row.short_lines };
      default:
        return { status: 'VOIDED' };
    }
  },

  /**
   * Locks the rows in SKU order (the database's), so orders racing for the same products cannot
   * deadlock: every change to stock takes its locks through here first.
   */
  async lockStock(tx: Transaction, skus: string[]): Promise<StockLevel[]> {
    return tx.query<StockLevel>(
      'SELECT sku, available FROM products WHERE sku = ANY($1) ORDER BY sku FOR UPDATE',
      [skus],
    );
  },

  async hold(tx: Transaction, orderId: string, lines: RequestedLine[]): Promise<void> {
    await tx.query(
      `UPDATE products p SET available = p.available - l.quantity, reserved = p.reserved + l.quantity
       FROM unnest($1::text[], $2::int[]) AS l(sku, quantity) WHERE p.sku = l.sku`,
      [lines.map((l) => l.sku), lines.map((l) => l.quantity)],
    );
    await this.record(tx, orderId, 'RESERVED', lines, []);
  },

  async giveBack(tx: Transaction, orderId: string, lines: RequestedLine[]): Promise<void> {
    // In the same order as every reservation takes them: locked in any other order, a release and
    // a reservation sharing two products deadlock.
    await this.lockStock(tx, [...new Set(lines.map((line) => line.sku))]);
    await tx.query(
      `UPDATE products p SET available = p.available + l.quantity, reserved = p.reserved - l.quantity
       FROM unnest($1::text[], $2::int[]) AS l(sku, quantity) WHERE p.sku = l.sku`,
      [lines.map((l) => l.sku), lines.map((l) => l.quantity)],
    );
    await this.record(tx, orderId, 'RELEASED', lines, []);
  },

  async record(
    tx: Transaction,
    orderId: string,
    status: 'RESERVED' | 'REFUSED' | 'RELEASED' | 'VOIDED',
    lines: RequestedLine[],
    shortLines: ShortLine[],
  ): Promise<void> {
    await tx.query(
      `INSERT INTO reservations (order_id, status, lines, short_lines) VALUES ($1, $2, $3, $4)
       ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = now()`,
      [orderId, status, JSON.stringify(lines), JSON.stringify(shortLines)],
    );
  },
};
