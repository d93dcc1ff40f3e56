import type { Transaction } from '@ordering/platform';
import type {
  RequestedLine,
  ReservationState,
  ShortLine,
  StockLevel,
} from './domain/reservation.js';

/** A reservation as it is written back: the order's state after a batch. */
export interface ReservationRow {
  orderId: string;
  state: Exclude<ReservationState, { status: 'NONE' }>;
}

/** How a batch moves one product's stock: units made available (or taken) and reserved. */
export interface StockChange {
  sku: string;
  available: number;
  reserved: number;
}

/**
 * The SQL side of reservations, set-based: each function is one statement for a whole batch of
 * orders, in the consumer's transaction.
 */
export const reservations = {
  /**
   * The orders' locks, always taken in the same (sorted) order, so one order's messages are
   * settled one batch at a time and two batches cannot deadlock.
   */
  async lockOrders(tx: Transaction, orderIds: readonly string[]): Promise<void> {
    await tx.query(
      `SELECT pg_advisory_xact_lock(hashtext(k))
       FROM (SELECT DISTINCT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted`,
      [orderIds.map((orderId) => `reservation:${orderId}`)],
    );
  },

  /** What the inventory knows of each order (orders it never saw are absent). */
  async states(tx: Transaction, orderIds: readonly string[]) {
    const rows = await tx.query<{
      order_id: string;
      status: ReservationState['status'];
      lines: RequestedLine[];
      short_lines: ShortLine[];
    }>(
      'SELECT order_id, status, lines, short_lines FROM reservations WHERE order_id = ANY($1::uuid[])',
      [orderIds],
      { plan: 'per-execution' },
    );
    return new Map<string, ReservationState>(
      rows.map((row) => [row.order_id, stateOf(row.status, row.lines, row.short_lines)]),
    );
  },

  /**
   * Locks the products in SKU order (the database's), so batches racing for the same products
   * cannot deadlock, and returns what is available of each.
   */
  async lockStock(tx: Transaction, skus: readonly string[]): Promise<StockLevel[]> {
    if (skus.length === 0) return [];
    return tx.query<StockLevel>(
      'SELECT sku, available FROM products WHERE sku = ANY($1) ORDER BY sku FOR UPDATE',
      [skus],
    );
  },

  async changeStock(tx: Transaction, changes: readonly StockChange[]): Promise<void> {
    if (changes.length === 0) return;
    await tx.query(
      `UPDATE products p SET available = p.available + c.available, reserved = p.reserved + c.reserved
       FROM unnest($1::text[], $2::int[], $3::int[]) AS c(sku, available, reserved)
       WHERE p.sku = c.sku`,
      [changes.map((c) => c.sku), changes.map((c) => c.available), changes.map((c) => c.reserved)],
    );
  },

  async record(tx: Transaction, rows: readonly ReservationRow[]): Promise<void> {
    if (rows.length === 0) return;
    const lines = ({ state }: ReservationRow) =>
      JSON.stringify(state.status === 'RESERVED' || state.status === 'RELEASED' ? state.lines : []);
    const shortLines = ({ state }: ReservationRow) =>
      JSON.stringify(state.status === 'REFUSED' ? state.shortLines : []);
    await tx.query(
      `INSERT INTO reservations (order_id, status, lines, short_lines)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[])
       ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, lines = excluded.lines,
         short_lines = excluded.short_lines, updated_at = now()`,
      [
        rows.map((r) => r.orderId),
        rows.map((r) => r.state.status),
        rows.map(lines),
        rows.map(shortLines),
      ],
    );
  },
};

function stateOf(
  status: ReservationState['status'],
  lines: RequestedLine[],
  shortLines: ShortLine[],
): ReservationState {
  switch (status) {
    case 'RESERVED':
    case 'RELEASED':
      return { status, lines };
    case 'REFUSED':
      return { status: 'REFUSED', shortLines };
    default:
      return { status: 'VOIDED' };
  }
}
