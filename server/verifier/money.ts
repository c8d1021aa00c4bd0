/**
 * The money of a batch's cooperative, from the chain alone (issue 13): whether the batch's accounts
 * were closed and what rounding left to the reserve, the payouts the cooperative recorded in the
 * PayoutLedger with each member's answer, and the reconciliation of every member's entitlement (her
 * shares of every batch the cooperative sold, recomputed from the contributors' lists and the escrow's
 * released totals) with those payouts, by domain/payouts.ts — the same function the gateway's audit
 * uses, over facts the verifier gathered itself.
 */
import { hexToString, numberToHex, pad, type Hex } from "viem";
import { toAddress as getAddress } from "../chain/address";
import {
  PAYOUT_METHODS,
  PAYOUT_PURPOSES,
  PAYOUT_STATUSES,
  reconcile,
  type EntitlementFact,
  type MemberReconciliation,
  type PayoutFact,
} from "../../domain/payouts";
import { shareOf } from "../../domain/split";
import { payoutLedgerAbi, saleEscrowAbi, topicOf, type ContractAbi, type Result } from "./abi";
import type { RpcLog } from "./rpc";

/** Where a log sits (collect.ts's LogRef). */
interface LogRef {
  blockNumber: number;
  logIndex: number;
  txHash: string;
  blockHash: string;
}

/**
 * What this module reads of the node, given by collect.ts (so the two do not import each other): logs
 * of the escrow and the ledger at the pinned block, views, decoding, and a batch's contributors' list.
 */
export interface MoneyReader {
  escrow: string;
  ledger: string;
  escrowLogs(topics: (string | string[] | null)[]): Promise<RpcLog[]>;
  ledgerLogs(topics: (string | string[] | null)[]): Promise<RpcLog[]>;
  view(to: string, abi: ContractAbi, fn: string, args: unknown[]): Promise<Result | null>;
  decode(abi: ContractAbi, log: RpcLog): { name: string; args: Result; ref: LogRef } | null;
  /** The list a batch (or its split ancestor) emitted, or null. */
  contributorsOf(batchId: string): Promise<{ account: string; weight: bigint }[] | null>;
}

const byChainOrder = (a: { ref: LogRef }, b: { ref: LogRef }) =>
  a.ref.blockNumber - b.ref.blockNumber || a.ref.logIndex - b.ref.logIndex;
const uintTopic = (n: bigint) => pad(numberToHex(n), { size: 32 });

export interface PayoutOnChain extends PayoutFact {
  id: string;
  method: string;
  /** The status the ledger stores (getPayout), to compare with the one its events tell. */
  storedStatus: string | null;
  ref: LogRef;
}

export interface MoneyFacts {
  /** BatchClosed of this batch, per token, with the escrow's roundedOff view. */
  closures: { token: string; roundedOff: bigint; view: bigint | null; ref: LogRef }[];
  entitlements: EntitlementFact[];
  payouts: PayoutOnChain[];
  /** The currency (ISO 4217) and decimals the escrow recorded per token. */
  currencies: Record<string, { code: string | null; decimals: number }>;
  rows: MemberReconciliation[];
}

const T = {
  SaleCreated: topicOf(saleEscrowAbi, "SaleCreated"),
  SaleReleased: topicOf(saleEscrowAbi, "SaleReleased"),
  BatchClosed: topicOf(saleEscrowAbi, "BatchClosed"),
  PayoutRecorded: topicOf(payoutLedgerAbi, "PayoutRecorded"),
  PayoutConfirmed: topicOf(payoutLedgerAbi, "PayoutConfirmed"),
  PayoutContested: topicOf(payoutLedgerAbi, "PayoutContested"),
};

export async function collectMoney(rd: MoneyReader, cooperativeId: bigint, batchId: string): Promise<MoneyFacts> {
  const escrow = rd.escrow;
  const closures: MoneyFacts["closures"] = [];
  for (const d of (await rd.escrowLogs([T.BatchClosed, batchId])).map((l) => rd.decode(saleEscrowAbi, l))) {
    if (d === null) continue;
    const token = getAddress(d.args.token as string);
    const v = await rd.view(escrow, saleEscrowAbi, "roundedOff", [batchId, token]);
    closures.push({
      token,
      roundedOff: d.args.roundedOff as bigint,
      view: v === null ? null : (v[0] as bigint),
      ref: d.ref,
    });
  }
  const entitlements = await entitlementsOf(rd, cooperativeId);
  const payouts = await payoutsOf(rd, cooperativeId);
  const currencies: MoneyFacts["currencies"] = {};
  for (const token of new Set([...entitlements.map((e) => e.token), ...payouts.map((p) => p.token)])) {
    const c = await rd.view(escrow, saleEscrowAbi, "currencyOf", [token]);
    const code = c === null || (c[0] as string) === "0x000000" ? null : hexToString(c[0] as Hex);
    currencies[token] = { code, decimals: c === null ? 0 : Number(c[1]) };
  }
  return { closures, entitlements, payouts, currencies, rows: reconcile(entitlements, payouts) };
}

/**
 * Each member's shares of every batch the cooperative sold: ⌊released × weight / total⌋ per batch and
 * token, from the contributors' list the batch (or its split ancestor) emitted.
 */
async function entitlementsOf(rd: MoneyReader, cooperativeId: bigint): Promise<EntitlementFact[]> {
  const sold = (await rd.escrowLogs([T.SaleCreated, null, null, uintTopic(cooperativeId)]))
    .map((l) => rd.decode(saleEscrowAbi, l))
    .filter((d) => d !== null)
    .map((d) => (d.args.batchId as string).toLowerCase());
  const facts: EntitlementFact[] = [];
  for (const batch of new Set(sold)) {
    const contributors = await rd.contributorsOf(batch);
    if (contributors === null) continue;
    const total = contributors.reduce((a, x) => a + x.weight, 0n);
    const tokens = new Set(
      (await rd.escrowLogs([T.SaleReleased, null, batch]))
        .map((l) => rd.decode(saleEscrowAbi, l))
        .filter((d) => d !== null)
        .map((d) => getAddress(d.args.token as string)),
    );
    for (const token of tokens) {
      const released = await rd.view(rd.escrow, saleEscrowAbi, "released", [batch, token]);
      if (released === null) continue;
      for (const x of contributors) {
        facts.push({ member: x.account, token, amount: shareOf(released[0] as bigint, x.weight, total) });
      }
    }
  }
  return facts;
}

/** The cooperative's payouts as the ledger's events tell them, each with the status its storage holds. */
async function payoutsOf(rd: MoneyReader, cooperativeId: bigint): Promise<PayoutOnChain[]> {
  const logs = (topics: (string | string[] | null)[]) => rd.ledgerLogs(topics);
  const byId = new Map<string, PayoutOnChain>();
  for (const d of (await logs([T.PayoutRecorded, null, uintTopic(cooperativeId)])).map((l) =>
    rd.decode(payoutLedgerAbi, l),
  )) {
    if (d === null) continue;
    byId.set((d.args.payoutId as string).toLowerCase(), {
      id: (d.args.payoutId as string).toLowerCase(),
      member: getAddress(d.args.member as string),
      token: getAddress(d.args.token as string),
      tokenAmount: d.args.tokenAmount as bigint,
      dirhams: d.args.dirhams as bigint,
      purpose: PAYOUT_PURPOSES[Number(d.args.purpose)],
      method: PAYOUT_METHODS[Number(d.args.method)],
      status: "recorded",
      storedStatus: null,
      ref: d.ref,
    });
  }
  const answers = (await logs([[T.PayoutConfirmed, T.PayoutContested]]))
    .map((l) => rd.decode(payoutLedgerAbi, l))
    .filter((d) => d !== null)
    .sort(byChainOrder);
  for (const d of answers) {
    const p = byId.get((d.args.payoutId as string).toLowerCase());
    if (p !== undefined) p.status = d.name === "PayoutConfirmed" ? "confirmed" : "contested";
  }
  for (const p of byId.values()) {
    const stored = await rd.view(rd.ledger, payoutLedgerAbi, "getPayout", [p.id]);
    p.storedStatus = stored === null ? null : PAYOUT_STATUSES[Number((stored[0] as { status: bigint }).status)];
  }
  return [...byId.values()].sort(byChainOrder);
}
