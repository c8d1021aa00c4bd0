/**
 * The read model over the index: every SQL query over the index tables, one file per area in ./read/,
 * composed here into the one object the services, the audits and the CLI read through. Rows are typed
 * per statement (better-sqlite3's `prepare<Params, Row>`); answers are plain, JSON-ready objects
 * (./read/types.ts).
 */
import type { Db } from "../store/db";
import { createBalanceReads, type BalanceReads } from "./read/balances";
import { createBatchReads, type BatchReads } from "./read/batches";
import { createCooperativeReads, type CooperativeReads } from "./read/cooperatives";
import { createSaleReads, type SaleReads } from "./read/sales";
import { createStateReads, createStatsReads, type StateReads, type StatsReads } from "./read/stats";

export * from "./read/types";
export { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from "./read/rows";
export { FIND_LIMIT } from "./read/batches";
export type { StatsSnapshot, StatsCooperative, StatsMember, StatsBatch, StatsRelease } from "./read/stats";
export type { BalanceReads, BatchReads, CooperativeReads, SaleReads, StateReads, StatsReads };

/** Everything the index answers. */
export interface Queries extends CooperativeReads, BatchReads, SaleReads, BalanceReads, StatsReads, StateReads {}

export function createQueries(db: Db): Queries {
  const cooperatives = createCooperativeReads(db);
  const sales = createSaleReads(db);
  return {
    ...cooperatives,
    ...sales,
    ...createBatchReads(db, { cooperativeById: cooperatives.cooperativeById, salesOfBatch: sales.salesOfBatch }),
    ...createBalanceReads(db),
    ...createStatsReads(db),
    ...createStateReads(db),
  };
}
