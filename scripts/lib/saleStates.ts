/**
 * The names of `ISaleEscrow.SaleState`, in the contract's order (index = the enum's value). The API,
 * the audit and the verifier all read sale states through this one list.
 */
export const SALE_STATES = [
  "None",
  "Created",
  "Funded",
  "Shipped",
  "Disputed",
  "Released",
  "Resolved",
  "Cancelled",
  "Refunded",
] as const;

export type SaleStateName = (typeof SALE_STATES)[number];
