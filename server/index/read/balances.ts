/**
 * What contributors earned and claimed, what buyers may withdraw, and the claims an audit compares.
 * Amounts are decimal strings of uint256: summed as bigints, never by SQLite (floats).
 */
import { toAddress as getAddress } from "../../chain/address";
import { shareOf } from "../../../domain/split";
import type { Db } from "../../store/db";
import type { FactsRow } from "./rows";
import type { Balance, IndexClaim } from "./types";

export interface BalanceReads {
  /** What `address` earned as a contributor, per batch and token released for it. */
  balancesOf(address: string): Balance[];
  /**
   * What the escrow holds for `address` to withdraw, per token, from buyer refunds: refunded minus
   * withdrawn (the escrow's `credited`, as far as the index has followed it); zero balances left out.
   */
  refundCreditsOf(address: string): { token: string; amount: string }[];
  /** Every claim paid from a batch, in chain order. */
  claimsOf(batchId: string): IndexClaim[];
}

interface EarningRow {
  batch_id: string;
  weight: string;
  total_weight: string;
  cooperative_id: number;
  product_code: string;
  lot_code: string;
  token: string;
  released_total: string;
}

interface ClaimRow extends FactsRow {
  batch_id: string;
  token: string;
  account: string;
  amount: string;
  weight: string;
}

type TokenAmount = { token: string; amount: string };

/** Sums of `amount` per key, as bigints. */
function sumBy<T extends { amount: string }>(rows: T[], key: (row: T) => string, into = new Map<string, bigint>()) {
  for (const r of rows) into.set(key(r), (into.get(key(r)) ?? 0n) + BigInt(r.amount));
  return into;
}

export function createBalanceReads(db: Db): BalanceReads {
  const q = {
    // The latest release per batch and token carries the batch's cumulative net (released_total).
    earnings: db.prepare<[string], EarningRow>(
      `SELECT c.batch_id, c.weight, b.total_weight, b.cooperative_id, b.product_code, b.lot_code, r.token, r.released_total
       FROM ix_batch_contributors c
       JOIN ix_batches b ON b.batch_id = c.batch_id
       JOIN (SELECT batch_id, token, released_total,
               ROW_NUMBER() OVER (PARTITION BY batch_id, token ORDER BY block_number DESC, log_index DESC) AS latest
             FROM ix_releases) r ON r.batch_id = c.batch_id AND r.latest = 1
       WHERE c.account = ?
       ORDER BY b.block_number, b.log_index, r.token`,
    ),
    claimsBy: db.prepare<[string], { batch_id: string; token: string; amount: string }>(
      "SELECT batch_id, token, amount FROM ix_claims WHERE account = ?",
    ),
    claimsOf: db.prepare<[string], ClaimRow>(
      "SELECT * FROM ix_claims WHERE batch_id = ? ORDER BY block_number, log_index",
    ),
    refundsTo: db.prepare<[string], TokenAmount>("SELECT token, amount FROM ix_refunds WHERE buyer = ?"),
    withdrawalsBy: db.prepare<[string], TokenAmount>("SELECT token, amount FROM ix_withdrawals WHERE account = ?"),
  };

  return {
    balancesOf(address) {
      const account = getAddress(address);
      const claimed = sumBy(q.claimsBy.all(account), (c) => `${c.batch_id}/${c.token}`);
      return q.earnings.all(account).map((r) => {
        const weight = BigInt(r.weight);
        const totalWeight = BigInt(r.total_weight);
        const releasedTotal = BigInt(r.released_total);
        const paid = claimed.get(`${r.batch_id}/${r.token}`) ?? 0n;
        const due = shareOf(releasedTotal, weight, totalWeight);
        return {
          batchId: r.batch_id,
          cooperativeId: r.cooperative_id,
          productCode: r.product_code,
          lotCode: r.lot_code,
          token: r.token,
          weight: weight.toString(),
          totalWeight: totalWeight.toString(),
          releasedTotal: releasedTotal.toString(),
          claimed: paid.toString(),
          claimable: (due > paid ? due - paid : 0n).toString(),
        };
      });
    },

    refundCreditsOf(address) {
      const account = getAddress(address);
      const credit = sumBy(q.refundsTo.all(account), (r) => r.token);
      for (const w of q.withdrawalsBy.all(account)) credit.set(w.token, (credit.get(w.token) ?? 0n) - BigInt(w.amount));
      return [...credit]
        .filter(([, amount]) => amount > 0n)
        .map(([token, amount]) => ({ token, amount: amount.toString() }));
    },

    claimsOf(batchId) {
      return q.claimsOf.all(batchId.toLowerCase()).map((r) => ({
        batchId: r.batch_id,
        token: r.token,
        account: r.account,
        amount: BigInt(r.amount),
        weight: BigInt(r.weight),
        txHash: r.tx_hash,
        blockNumber: r.block_number,
        logIndex: r.log_index,
      }));
    },
  };
}
