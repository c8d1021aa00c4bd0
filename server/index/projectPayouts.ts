/**
 * The projections of money in dirhams (issue 13), beside project.ts's: settlement tokens, payout
 * accounts and routes, routed claims and batch closures (SaleEscrow), payouts and reference rates
 * (PayoutLedger), into the tables of payoutSchema.ts. Same contract as project.ts: called in chain
 * order once per journaled log, inside the caller's transaction, idempotent on natural keys and
 * (tx_hash, log_index); a rewind empties these tables and replays the journal through here again.
 */
import { hexToString, type Hex } from "viem";
import { PAYOUT_METHODS, PAYOUT_PURPOSES } from "../../domain/payouts";
import type { Db } from "../store/db";
import type { Args, IndexedEvent } from "./decode";

/** Applies `event` if it is one of these projections'; false for any other event. */
export type PayoutProjection = (event: IndexedEvent) => boolean;

function arg(args: Args, key: string): string {
  const v = args[key];
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new Error(`event argument ${key}: expected a string or number, got ${JSON.stringify(v)}`);
}

/** Ids, decimals, enum members: integers the contracts keep far below 2^53. */
function int(args: Args, key: string): number {
  const n = Number(arg(args, key));
  if (!Number.isSafeInteger(n)) throw new Error(`event argument ${key}: not a safe integer`);
  return n;
}

/** A bytes3 ISO 4217 code as the log holds it (0x4d4144) → "MAD". */
export function currencyCode(hex: string): string {
  return hexToString(hex as Hex).replace(/\0+$/, "");
}

function chainFacts(e: IndexedEvent) {
  return { txHash: e.txHash, blockNumber: e.blockNumber, logIndex: e.logIndex, blockTime: e.blockTime };
}

function statements(db: Db) {
  return {
    token: db.prepare(
      `INSERT INTO ix_settlement_tokens (token, currency, decimals, tx_hash, block_number, log_index, block_time)
       VALUES (@token, @currency, @decimals, @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (token) DO UPDATE SET currency = excluded.currency, decimals = excluded.decimals,
         tx_hash = excluded.tx_hash, block_number = excluded.block_number, log_index = excluded.log_index,
         block_time = excluded.block_time`,
    ),
    account: db.prepare(
      `INSERT OR REPLACE INTO ix_payout_accounts (cooperative_id, account, tx_hash, block_number, log_index, block_time)
       VALUES (@cooperativeId, @account, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    route: db.prepare(
      `INSERT OR REPLACE INTO ix_payout_routes (cooperative_id, member, through_cooperative, tx_hash, block_number, log_index, block_time)
       VALUES (@cooperativeId, @member, @through, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    // ClaimRouted names no token: it is the Claimed log just before it in the same transaction.
    claimToken: db.prepare<[string, number], { token: string }>(
      `SELECT token FROM ix_claims WHERE tx_hash = ? AND log_index = ?`,
    ),
    routedClaim: db.prepare(
      `INSERT OR REPLACE INTO ix_routed_claims (batch_id, token, account, cooperative_id, recipient, amount,
         tx_hash, block_number, log_index, block_time)
       VALUES (@batchId, @token, @account, @cooperativeId, @recipient, @amount, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    closure: db.prepare(
      `INSERT OR REPLACE INTO ix_batch_closures (batch_id, cooperative_id, token, rounded_off, tx_hash, block_number, log_index, block_time)
       VALUES (@batchId, @cooperativeId, @token, @roundedOff, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
    payout: db.prepare(
      `INSERT INTO ix_payouts (payout_id, cooperative_id, member, token, token_amount, dirhams, rate_e6, purpose, method,
         reference_hash, status, tx_hash, block_number, log_index, block_time)
       VALUES (@payoutId, @cooperativeId, @member, @token, @tokenAmount, @dirhams, @rateE6, @purpose, @method,
         @referenceHash, 'recorded', @txHash, @blockNumber, @logIndex, @blockTime)
       ON CONFLICT (payout_id) DO NOTHING`,
    ),
    confirmed: db.prepare(
      `UPDATE ix_payouts SET status = 'confirmed', answered_tx_hash = @txHash, answered_block_number = @blockNumber,
         answered_log_index = @logIndex, answered_block_time = @blockTime
       WHERE payout_id = @payoutId`,
    ),
    // A contest stays visible after a later confirmation: its reason and transaction are kept apart.
    contested: db.prepare(
      `UPDATE ix_payouts SET status = 'contested', contest_reason_hash = @reasonHash, contested_tx_hash = @txHash,
         contested_block_time = @blockTime, answered_tx_hash = @txHash, answered_block_number = @blockNumber,
         answered_log_index = @logIndex, answered_block_time = @blockTime
       WHERE payout_id = @payoutId`,
    ),
    rate: db.prepare(
      `INSERT OR REPLACE INTO ix_reference_rates (currency, rate_e6, as_of, source, tx_hash, block_number, log_index, block_time)
       VALUES (@currency, @rateE6, @asOf, @source, @txHash, @blockNumber, @logIndex, @blockTime)`,
    ),
  };
}

export function createPayoutProjection(db: Db): PayoutProjection {
  const q = statements(db);
  return (e) => {
    const a = e.args;
    const f = chainFacts(e);
    switch (e.name) {
      case "SettlementTokenSet":
        q.token.run({
          ...f,
          token: arg(a, "token"),
          currency: currencyCode(arg(a, "currency")),
          decimals: int(a, "decimals"),
        });
        return true;
      case "PayoutAccountSet":
        q.account.run({ ...f, cooperativeId: int(a, "cooperativeId"), account: arg(a, "account") });
        return true;
      case "PayoutRouteChosen":
        q.route.run({
          ...f,
          cooperativeId: int(a, "cooperativeId"),
          member: arg(a, "member"),
          through: a.throughCooperative === true ? 1 : 0,
        });
        return true;
      case "ClaimRouted":
        q.routedClaim.run({
          ...f,
          batchId: arg(a, "batchId"),
          token: q.claimToken.get(e.txHash, e.logIndex - 1)?.token ?? "",
          account: arg(a, "account"),
          cooperativeId: int(a, "cooperativeId"),
          recipient: arg(a, "to"),
          amount: arg(a, "amount"),
        });
        return true;
      case "BatchClosed":
        q.closure.run({
          ...f,
          batchId: arg(a, "batchId"),
          cooperativeId: int(a, "cooperativeId"),
          token: arg(a, "token"),
          roundedOff: arg(a, "roundedOff"),
        });
        return true;
      case "PayoutRecorded":
        q.payout.run({
          ...f,
          payoutId: arg(a, "payoutId"),
          cooperativeId: int(a, "cooperativeId"),
          member: arg(a, "member"),
          token: arg(a, "token"),
          tokenAmount: arg(a, "tokenAmount"),
          dirhams: arg(a, "dirhams"),
          rateE6: arg(a, "rateE6"),
          purpose: PAYOUT_PURPOSES[int(a, "purpose")] ?? String(int(a, "purpose")),
          method: PAYOUT_METHODS[int(a, "method")] ?? String(int(a, "method")),
          referenceHash: arg(a, "referenceHash"),
        });
        return true;
      case "PayoutConfirmed":
        q.confirmed.run({ ...f, payoutId: arg(a, "payoutId") });
        return true;
      case "PayoutContested":
        q.contested.run({ ...f, payoutId: arg(a, "payoutId"), reasonHash: arg(a, "reasonHash") });
        return true;
      case "ReferenceRateSet":
        q.rate.run({
          ...f,
          currency: currencyCode(arg(a, "currency")),
          rateE6: arg(a, "rateE6"),
          asOf: arg(a, "asOf"),
          source: arg(a, "source"),
        });
        return true;
      default:
        return false;
    }
  };
}
