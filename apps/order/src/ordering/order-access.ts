import { ORDER_API_ROLES } from '@ordering/contracts';
import type { Caller } from '@ordering/platform';

/**
 * Who may see and change an order, for every slice: its customer sees it, and so does an admin;
 * a service with the order-reader role sees any one order as it is now, and nothing more; only
 * its customer cancels it. Anyone else is told it does not exist (orderNotFound), so an order id
 * reveals nothing.
 */
export const orderAccess = {
  maySee: (caller: Caller, customerId: string): boolean =>
    caller.isAdmin ||
    caller.id === customerId ||
    caller.roles.includes(ORDER_API_ROLES.orderReader),

  /** Its events, or the order as it was: the customer's and admins' only. */
  maySeeHistory: (caller: Caller, customerId: string): boolean =>
    caller.isAdmin || caller.id === customerId,

  mayCancel: (caller: Caller, customerId: string): boolean => caller.id === customerId,

  /** The customer whose orders a listing is limited to; undefined: everyone's (an admin). */
  listedCustomer: (caller: Caller, asked: string | undefined): string | undefined =>
    caller.isAdmin ? asked : caller.id,
};
