/**
 * The read model of money in dirhams (issue 13): typed queries over the tables of payoutSchema.ts,
 * and members' entitlements computed from the index as the escrow computes them. Reads only.
 */
import {
  PAYOUT_STATUSES,
  type EntitlementFact,
  type PayoutMethod,
  type PayoutPurpose,
  type PayoutStatus,
} from "../../domain/payouts";
import { shareOf } from "../../domain/split";
import { toAddress } from "../chain/address";
import type { Db } from "../store/db";
import type { ChainRef, Queries } from "./queries";

/** The chain facts of a row whose fact columns carry `prefix` (a payout has its record's and its answer's). */
function chainOf(row: Record<string, unknown>, prefix = ""): ChainRef {
  return {
    txHash: row[`${prefix}tx_hash`] as string,
    blockNumber: row[`${prefix}block_number`] as number,
    logIndex: row[`${prefix}log_index`] as number,
    blockTime: row[`${prefix}block_time`] as number,
  };
}

export interface SettlementToken {
  token: string;
  /** ISO 4217 code ("MAD", "EUR"). */
  currency: string;
  decimals: number;
  chain: ChainRef;
}

export interface PayoutAccount {
  cooperativeId: number;
  account: string;
  chain: ChainRef;
}

export interface PayoutRoute {
  cooperativeId: number;
  member: string;
  throughCooperative: boolean;
  chain: ChainRef;
}

export interface RoutedClaim {
  batchId: string;
  token: string;
  account: string;
  cooperativeId: number;
  /** The payout account the share went to. */
  recipient: string;
  amount: string;
  chain: ChainRef;
}

export interface BatchClosure {
  batchId: string;
  cooperativeId: number;
  token: string;
  /** What rounding members' shares down left over, paid to the cooperative's reserve. */
  roundedOff: string;
  chain: ChainRef;
}

export interface PayoutRecord {
  payoutId: string;
  cooperativeId: number;
  member: string;
  token: string;
  /** In the token's smallest unit. */
  tokenAmount: string;
  /** Centimes handed over. */
  dirhams: string;
  /** Dirhams per unit of the token's currency × 10⁶; "0" when nothing was converted. */
  rateE6: string;
  purpose: PayoutPurpose;
  method: PayoutMethod;
  referenceHash: string;
  status: PayoutStatus;
  /** The record. */
  chain: ChainRef;
  /** The member's last answer (confirmation or contest), null while unanswered. */
  answer: ChainRef | null;
  /** Her contest, kept after a later confirmation; null if she never contested. */
  contest: { reasonHash: string; txHash: string; blockTime: number } | null;
}

export interface ReferenceRate {
  currency: string;
  rateE6: string;
  /** Unix seconds of the rate's date, as the platform admin recorded it. */
  asOf: string;
  source: string;
  chain: ChainRef;
}

export interface PayoutQueries {
  settlementTokens(): SettlementToken[];
  settlementToken(token: string): SettlementToken | null;
  payoutAccount(cooperativeId: number): PayoutAccount | null;
  route(cooperativeId: number, member: string): PayoutRoute | null;
  routesOf(member: string): PayoutRoute[];
  routedClaims(cooperativeId: number): RoutedClaim[];
  batchClosures(cooperativeId: number): BatchClosure[];
  /** Payouts in chain order, of a cooperative and/or a member. */
  payouts(filter: { cooperativeId?: number; member?: string }): PayoutRecord[];
  payout(payoutId: string): PayoutRecord | null;
  /** The reference rate of `currency` recorded last (chain order), null when none. */
  latestRate(currency: string): ReferenceRate | null;
  rates(): ReferenceRate[];
  /** Every account that contributed to a batch of the cooperative (members who left included). */
  contributorsOf(cooperativeId: number): string[];
}

type Row = Record<string, unknown>;

function payoutOf(r: Row): PayoutRecord {
  return {
    payoutId: r.payout_id as string,
    cooperativeId: r.cooperative_id as number,
    member: r.member as string,
    token: r.token as string,
    tokenAmount: r.token_amount as string,
    dirhams: r.dirhams as string,
    rateE6: r.rate_e6 as string,
    purpose: r.purpose as PayoutPurpose,
    method: r.method as PayoutMethod,
    referenceHash: r.reference_hash as string,
    status: (PAYOUT_STATUSES as readonly string[]).includes(r.status as string) ? (r.status as PayoutStatus) : "none",
    chain: chainOf(r),
    answer: r.answered_tx_hash === null ? null : chainOf(r, "answered_"),
    contest:
      r.contested_tx_hash === null
        ? null
        : {
            reasonHash: r.contest_reason_hash as string,
            txHash: r.contested_tx_hash as string,
            blockTime: r.contested_block_time as number,
          },
  };
}

const routeOf = (r: Row): PayoutRoute => ({
  cooperativeId: r.cooperative_id as number,
  member: r.member as string,
  throughCooperative: r.through_cooperative === 1,
  chain: chainOf(r),
});

const rateOf = (r: Row): ReferenceRate => ({
  currency: r.currency as string,
  rateE6: r.rate_e6 as string,
  asOf: r.as_of as string,
  source: r.source as string,
  chain: chainOf(r),
});

const tokenOf = (r: Row): SettlementToken => ({
  token: r.token as string,
  currency: r.currency as string,
  decimals: r.decimals as number,
  chain: chainOf(r),
});

function statements(db: Db) {
  return {
    tokens: db.prepare<[], Row>("SELECT * FROM ix_settlement_tokens ORDER BY currency, token"),
    token: db.prepare<[string], Row>("SELECT * FROM ix_settlement_tokens WHERE token = ?"),
    account: db.prepare<[number], Row>("SELECT * FROM ix_payout_accounts WHERE cooperative_id = ?"),
    route: db.prepare<[number, string], Row>("SELECT * FROM ix_payout_routes WHERE cooperative_id = ? AND member = ?"),
    routesOf: db.prepare<[string], Row>("SELECT * FROM ix_payout_routes WHERE member = ? ORDER BY cooperative_id"),
    routed: db.prepare<[number], Row>(
      "SELECT * FROM ix_routed_claims WHERE cooperative_id = ? ORDER BY block_number, log_index",
    ),
    closures: db.prepare<[number], Row>(
      "SELECT * FROM ix_batch_closures WHERE cooperative_id = ? ORDER BY block_number, log_index",
    ),
    payoutsOfCoop: db.prepare<[number], Row>(
      "SELECT * FROM ix_payouts WHERE cooperative_id = ? ORDER BY block_number, log_index",
    ),
    payoutsOfMember: db.prepare<[string], Row>(
      "SELECT * FROM ix_payouts WHERE member = ? ORDER BY block_number, log_index",
    ),
    payoutsOfBoth: db.prepare<[number, string], Row>(
      "SELECT * FROM ix_payouts WHERE cooperative_id = ? AND member = ? ORDER BY block_number, log_index",
    ),
    payout: db.prepare<[string], Row>("SELECT * FROM ix_payouts WHERE payout_id = ?"),
    latestRate: db.prepare<[string], Row>(
      "SELECT * FROM ix_reference_rates WHERE currency = ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
    ),
    rates: db.prepare<[], Row>("SELECT * FROM ix_reference_rates ORDER BY block_number, log_index"),
    contributors: db.prepare<[number], { account: string }>(
      `SELECT DISTINCT c.account FROM ix_batch_contributors c JOIN ix_batches b ON b.batch_id = c.batch_id
       WHERE b.cooperative_id = ? ORDER BY c.account`,
    ),
  };
}

export function createPayoutQueries(db: Db): PayoutQueries {
  const q = statements(db);
  return {
    settlementTokens: () => q.tokens.all().map(tokenOf),
    settlementToken(token) {
      const r = q.token.get(toAddress(token));
      return r === undefined ? null : tokenOf(r);
    },
    payoutAccount(cooperativeId) {
      const r = q.account.get(cooperativeId);
      return r === undefined
        ? null
        : { cooperativeId: r.cooperative_id as number, account: r.account as string, chain: chainOf(r) };
    },
    route(cooperativeId, member) {
      const r = q.route.get(cooperativeId, toAddress(member));
      return r === undefined ? null : routeOf(r);
    },
    routesOf: (member) => q.routesOf.all(toAddress(member)).map(routeOf),
    routedClaims: (cooperativeId) =>
      q.routed.all(cooperativeId).map((r) => ({
        batchId: r.batch_id as string,
        token: r.token as string,
        account: r.account as string,
        cooperativeId: r.cooperative_id as number,
        recipient: r.recipient as string,
        amount: r.amount as string,
        chain: chainOf(r),
      })),
    batchClosures: (cooperativeId) =>
      q.closures.all(cooperativeId).map((r) => ({
        batchId: r.batch_id as string,
        cooperativeId: r.cooperative_id as number,
        token: r.token as string,
        roundedOff: r.rounded_off as string,
        chain: chainOf(r),
      })),
    payouts({ cooperativeId, member }) {
      const rows =
        cooperativeId !== undefined && member !== undefined
          ? q.payoutsOfBoth.all(cooperativeId, toAddress(member))
          : cooperativeId !== undefined
            ? q.payoutsOfCoop.all(cooperativeId)
            : member !== undefined
              ? q.payoutsOfMember.all(toAddress(member))
              : [];
      return rows.map(payoutOf);
    },
    payout(payoutId) {
      const r = q.payout.get(payoutId.toLowerCase());
      return r === undefined ? null : payoutOf(r);
    },
    latestRate(currency) {
      const r = q.latestRate.get(currency);
      return r === undefined ? null : rateOf(r);
    },
    rates: () => q.rates.all().map(rateOf),
    contributorsOf: (cooperativeId) => q.contributors.all(cooperativeId).map((r) => r.account),
  };
}

/**
 * Each account's entitlement in each token from the batches of `cooperativeId`: Σ over its batches of
 * ⌊released total × her weight / the batch's total weight⌋, the escrow's own rule (domain/split.ts),
 * from the same per-batch balances the claims and the workspace read (Queries.balancesOf).
 */
export function entitlementsOf(
  queries: Pick<Queries, "balancesOf">,
  accounts: readonly string[],
  cooperativeId: number,
): EntitlementFact[] {
  return accounts.flatMap((account) =>
    queries
      .balancesOf(account)
      .filter((b) => b.cooperativeId === cooperativeId)
      .map((b) => ({
        member: toAddress(account),
        token: b.token,
        amount: shareOf(BigInt(b.releasedTotal), BigInt(b.weight), BigInt(b.totalWeight)),
      })),
  );
}
