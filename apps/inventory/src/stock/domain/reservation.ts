/** A line of an order, as the inventory sees it: what to hold back. */
export interface RequestedLine {
  sku: string;
  quantity: number;
}

export interface StockLevel {
  sku: string;
  available: number;
}

export interface ShortLine {
  sku: string;
  requested: number;
  available: number;
}

/** What the inventory knows about one order's reservation. */
export type ReservationState =
  | { status: 'NONE' }
  | { status: 'RESERVED'; lines: RequestedLine[] }
  | { status: 'REFUSED'; shortLines: ShortLine[] }
  | { status: 'RELEASED'; lines: RequestedLine[] }
  /** The order was cancelled or rejected before it was seen placed: it must never be reserved. */
  | { status: 'VOIDED' };

export type ReleaseReason = 'ORDER_CANCELLED' | 'ORDER_REJECTED';

export type ReservationDecision =
  | { outcome: 'reserve'; lines: RequestedLine[] }
  | { outcome: 'refuse'; shortLines: ShortLine[] }
  | { outcome: 'release'; lines: RequestedLine[]; reason: ReleaseReason }
  | { outcome: 'void' }
  | { outcome: 'ignore'; why: string };

/**
 * An order was placed: hold every line or none. Stock never goes below zero: a line is short
 * when fewer units are available than it asks for (an unknown SKU has none available).
 */
export function decideReservation(
  state: ReservationState,
  lines: readonly RequestedLine[],
  stock: readonly StockLevel[],
): ReservationDecision {
  if (state.status === 'VOIDED') {
    return { outcome: 'ignore', why: 'the order was cancelled or rejected before it was placed' };
  }
  if (state.status !== 'NONE') return { outcome: 'ignore', why: `already ${state.status}` };

  const available = new Map(stock.map((level) => [level.sku, level.available]));
  const shortLines = lines
    .map((line) => ({
      sku: line.sku,
      requested: line.quantity,
      available: available.get(line.sku) ?? 0,
    }))
    .filter((line) => line.available < line.requested);
  return shortLines.length > 0
    ? { outcome: 'refuse', shortLines }
    : { outcome: 'reserve', lines: lines.map(({ sku, quantity }) => ({ sku, quantity })) };
}

/**
 * An order was cancelled or rejected: give back what it holds, exactly once. One that was never
 * seen placed is voided, so that its late `order.placed` reserves nothing.
 */
export function decideRelease(state: ReservationState, reason: ReleaseReason): ReservationDecision {
  switch (state.status) {
    case 'RESERVED':
      return { outcome: 'release', lines: state.lines, reason };
    case 'NONE':
      return { outcome: 'void' };
    default:
      return { outcome: 'ignore', why: `nothing held (${state.status})` };
  }
}
