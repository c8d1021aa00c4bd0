/**
 * The names of `ISaleEscrow.SaleState`, in the contract's order (index = the enum's value). The API,
 * the index, the pages, the audit and the verifier all read sale states through this one list.
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

/** A state a sale can be in once it exists (the index never stores "None"). */
export type SaleState = Exclude<SaleStateName, "None">;
