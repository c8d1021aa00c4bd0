/**
 * The money of a batch's cooperative, from the chain alone (issue 13): whether the batch's accounts
 * were closed and what rounding left to the reserve, the payouts the cooperative recorded in the
 * PayoutLedger with each member's answer, and the reconciliation of every member's entitlement (her
 * shares of every batch the cooperative sold, recomputed from the contributors' lists and the escrow's
 * released totals) with those payouts, by domain/payouts.ts — the same function the gateway's audit
 * uses, over facts the verifier gathered itself.
 */
import { hexToString, type Hex } from "viem";
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
import { payoutLedgerAbi, saleEscrowAbi, topicOf } from "./abi";
import {
  byChainOrder,
  contributorSource,
  decode,
  emptySnapshot,
  escrowLogs,
  loadContributorSource,
  uintTopic,
  view,
  type Collector,
  type LogRef,
} from "./collect";

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

export async function collectMoney(col: Collector, cooperativeId: bigint, batchId: string): Promise<MoneyFacts> {
  const escrow = col.contracts.SaleEscrow.address;
  const closures: MoneyFacts["closures"] = [];
  for (const d of (await escrowLogs(col, [T.BatchClosed, batchId])).map((l) => decode(saleEscrowAbi, l))) {
    if (d === null) continue;
    const token = getAddress(d.args.token as string);
    const v = await view(col, escrow, saleEscrowAbi, "roundedOff", [batchId, token]);
    closures.push({
      token,
      roundedOff: d.args.roundedOff as bigint,
      view: v === null ? null : (v[0] as bigint),
      ref: d.ref,
    });
  }
  const entitlements = await entitlementsOf(col, cooperativeId);
  const payouts = await payoutsOf(col, cooperativeId);
  const currencies: MoneyFacts["currencies"] = {};
  for (const token of new Set([...entitlements.map((e) => e.token), ...payouts.map((p) => p.token)])) {
    const c = await view(col, escrow, saleEscrowAbi, "currencyOf", [token]);
    const code = c === null || (c[0] as string) === "0x000000" ? null : hexToString(c[0] as Hex);
    currencies[token] = { code, decimals: c === null ? 0 : Number(c[1]) };
  }
  return { closures, entitlements, payouts, currencies, rows: reconcile(entitlements, payouts) };
}

/**
 * Each member's shares of every batch the cooperative sold: ⌊released × weight / total⌋ per batch and
 * token, from the contributors' list the batch (or its split ancestor) emitted. A separate snapshot
 * holds the registrations read on the way, so the batch's own checks see only its own lineage.
 */
async function entitlementsOf(col: Collector, cooperativeId: bigint): Promise<EntitlementFact[]> {
  const side: Collector = {
    ...col,
    snap: emptySnapshot(col.snap.rpcUrl, col.snap.nodeChainId, col.block, col.snap.deployment, {
      kind: "batchId",
      input: "",
      batchId: "",
    }),
    seen: new Set(),
  };
  const escrow = col.contracts.SaleEscrow.address;
  const sold = (await escrowLogs(col, [T.SaleCreated, null, null, uintTopic(cooperativeId)]))
    .map((l) => decode(saleEscrowAbi, l))
    .filter((d) => d !== null)
    .map((d) => (d.args.batchId as string).toLowerCase());
  const facts: EntitlementFact[] = [];
  for (const batch of new Set(sold)) {
    await loadContributorSource(side, batch);
    const source = contributorSource(side.snap, batch);
    if (source === null) continue;
    const total = source.contributors.reduce((a, x) => a + x.weight, 0n);
    const tokens = new Set(
      (await escrowLogs(col, [T.SaleReleased, null, batch]))
        .map((l) => decode(saleEscrowAbi, l))
        .filter((d) => d !== null)
        .map((d) => getAddress(d.args.token as string)),
    );
    for (const token of tokens) {
      const released = await view(col, escrow, saleEscrowAbi, "released", [batch, token]);
      if (released === null) continue;
      for (const x of source.contributors) {
        facts.push({ member: x.account, token, amount: shareOf(released[0] as bigint, x.weight, total) });
      }
    }
  }
  return facts;
}

/** The cooperative's payouts as the ledger's events tell them, each with the status its storage holds. */
async function payoutsOf(col: Collector, cooperativeId: bigint): Promise<PayoutOnChain[]> {
  const ledger = col.contracts.PayoutLedger;
  const logs = (topics: (string | string[] | null)[]) =>
    col.rpc.getLogs({ address: ledger.address, topics }, ledger.blockNumber, col.block);
  const byId = new Map<string, PayoutOnChain>();
  for (const d of (await logs([T.PayoutRecorded, null, uintTopic(cooperativeId)])).map((l) =>
    decode(payoutLedgerAbi, l),
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
    .map((l) => decode(payoutLedgerAbi, l))
    .filter((d) => d !== null)
    .sort(byChainOrder);
  for (const d of answers) {
    const p = byId.get((d.args.payoutId as string).toLowerCase());
    if (p !== undefined) p.status = d.name === "PayoutConfirmed" ? "confirmed" : "contested";
  }
  for (const p of byId.values()) {
    const stored = await view(col, ledger.address, payoutLedgerAbi, "getPayout", [p.id]);
    p.storedStatus = stored === null ? null : PAYOUT_STATUSES[Number((stored[0] as { status: bigint }).status)];
  }
  return [...byId.values()].sort(byChainOrder);
}
