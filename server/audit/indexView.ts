/**
 * What the index (SQLite read model) says, for the comparison with the chain. Reads only; the
 * queries the API already has are used where they exist (Queries.getSale, getBatch, listSales).
 */
import type { Db } from "../store/db";

export interface IndexClaim {
  batchId: string;
  token: string;
  account: string;
  amount: bigint;
  weight: bigint;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

export interface IndexView {
  claimsOf(batchId: string): IndexClaim[];
  /** Sale ids of a cooperative, in id order. */
  saleIdsOf(cooperativeId: number): number[];
}

export function createIndexView(db: Db): IndexView {
  const claims = db.prepare<[string], Record<string, unknown>>(
    "SELECT * FROM ix_claims WHERE batch_id = ? ORDER BY block_number, log_index",
  );
  const sales = db.prepare<[number], { sale_id: number }>(
    "SELECT sale_id FROM ix_sales WHERE cooperative_id = ? ORDER BY sale_id",
  );
  return {
    claimsOf(batchId) {
      return claims.all(batchId.toLowerCase()).map((r) => ({
        batchId: r.batch_id as string,
        token: r.token as string,
        account: r.account as string,
        amount: BigInt(r.amount as string),
        weight: BigInt(r.weight as string),
        txHash: r.tx_hash as string,
        blockNumber: r.block_number as number,
        logIndex: r.log_index as number,
      }));
    },
    saleIdsOf(cooperativeId) {
      return sales.all(cooperativeId).map((r) => r.sale_id);
    },
  };
}
