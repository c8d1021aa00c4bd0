/**
 * The audit of one sale: the split recomputed from chain facts alone (the contributors commitment
 * rebuilt from the emitted BatchRegistered list — the ancestor's for a split child, checked against
 * the merge rule for a merge — and the SaleReleased, SaleRefunded and Claimed events, all read over
 * JSON-RPC by the verifier), then compared field by field with what the index says.
 *
 * Rounding, as the contracts do it (RevenueSplit and SaleEscrow):
 * - fee = ⌊gross × feeBps / 10⁴⌋, net = ⌊(gross − fee) × (10⁴ − reserveBps) / 10⁴⌋ and the reserve
 *   takes the rest, so the rounding remainder of fee and net goes to the cooperative's reserve;
 * - members' shares are cumulative per batch and token: a member is due
 *   ⌊releasedTotal × weight / totalWeight⌋, so what a sale adds to a member's share is the increase
 *   of that floor, and less than one unit per contributor (dust) stays in the escrow, to be paid
 *   out by a later release of the same batch.
 */
import { formatUnits } from "../chain/units";
import { ZERO_ADDRESS as ZeroAddress, toAddress as getAddress } from "../chain/address";
import type { UserStore } from "../custody/users";
import { DomainError, notFound } from "../services/errors";
import type { ContributorTree } from "../../domain/contributors";
import { shareOf } from "../../domain/split";
import { SALE_STATES, type Check } from "../verifier/checks";
import { contributorSource, treeOfContributors, type LogRef, type SaleFacts, type Snapshot } from "../verifier/collect";
import type { BatchFacts, ChainReader } from "./chain";
import type { IndexView } from "./indexView";

const BPS = 10_000n;

/** The escrow's views an audit reads (server/chain/accounts.ts: escrowViews). */
export interface EscrowViews {
  saleCount(): Promise<bigint>;
  getSale(saleId: number): Promise<{ batchId: string }>;
  reserveOf(cooperativeId: number, token: string): Promise<bigint>;
}

/** What an audit reads: the index it checks, members' names, the escrow's views and the chain facts. */
export interface AuditDeps {
  /** What the index (the read model) says, compared with the chain. */
  index: IndexView;
  /** Members' names in the gateway's user store (never on-chain). */
  users: Pick<UserStore, "findByAddress">;
  /** The escrow's views, read at the node's head. */
  escrow: EscrowViews;
  /** Chain facts, read by the verifier. */
  chain: ChainReader;
}

export interface TokenRef {
  address: string;
  symbol: string;
  decimals: number | null;
  /** The currency the escrow recorded with the token (amounts are then shown as money), or null. */
  currency?: string | null;
}

export interface AuditContributor {
  account: string;
  /** The member's name in the gateway's user store, when it knows the account (never on-chain). */
  displayName: string | null;
  weight: string;
  /** What this sale added to the member's share (smallest unit). */
  share: string;
  shareHuman: string | null;
  /** Claimed so far from this batch in this token (all sales of the batch). */
  claimed: string;
  claimedHuman: string | null;
  /** Still claimable from this batch in this token. */
  claimable: string;
  claimableHuman: string | null;
}

export type TransactionStep =
  | "created"
  | "funded"
  | "shipped"
  | "disputed"
  | "confirmed"
  | "resolved"
  | "released"
  | "refunded"
  | "cancelled"
  | "claim";

export interface AuditTransaction {
  step: TransactionStep;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  /** For a claim: the member paid and the amount. */
  account?: string;
  amount?: string;
}

export interface Discrepancy {
  saleId: number;
  /** What differs: an index field (`releases[0].net`, `contributors[3].weight`) or a failed chain check (`chain.<check>`). */
  field: string;
  index: string | null;
  chain: string | null;
}

export interface RemainderPart {
  where: "reserve" | "dust";
  amount: string;
  amountHuman: string | null;
  explanation: string;
}

export interface SaleAudit {
  saleId: number;
  batchId: string;
  lotCode: string | null;
  cooperativeId: number;
  state: string;
  token: TokenRef;
  price: string;
  priceHuman: string | null;
  feeBps: number;
  reserveBps: number;
  gross: string;
  grossHuman: string | null;
  fee: string;
  feeHuman: string | null;
  reserve: string;
  reserveHuman: string | null;
  net: string;
  netHuman: string | null;
  refund: { amount: string; amountHuman: string | null; refundBps: number | null; buyer: string } | null;
  totalWeight: string;
  contributorsRoot: string;
  contributors: AuditContributor[];
  remainder: {
    /** Sum of the parts. */
    amount: string;
    amountHuman: string | null;
    /** Where the remainder of this sale went: the reserve, the escrow (dust), both, or nowhere. */
    where: "reserve" | "dust" | "reserve+dust" | "none";
    parts: RemainderPart[];
    /** Rounding dust of the whole batch in this token after this sale: releasedTotal − Σ shares (< contributors). */
    batchDust: string;
  };
  transactions: AuditTransaction[];
  consistent: boolean;
  discrepancies: Discrepancy[];
  /** The chain block the facts were read at, and the verifier checks that concern this sale. */
  verifiedAt: { block: number; checks: { id: string; ok: boolean; title: string }[] };
}

export function human(value: bigint, decimals: number | null): string | null {
  return decimals === null ? null : formatUnits(value, decimals);
}

function tokenOf(snap: Snapshot, token: string): TokenRef {
  const t = snap.tokens[token];
  // The currency only when the escrow recorded one: the JSON of an ether or plain-token sale is as before.
  if (t)
    return {
      address: t.address,
      symbol: t.symbol,
      decimals: t.decimals,
      ...(t.currency ? { currency: t.currency } : {}),
    };
  return token === ZeroAddress
    ? { address: token, symbol: "ETH", decimals: 18 }
    : { address: token, symbol: token, decimals: null };
}

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
const before = (a: LogRef, b: LogRef) =>
  a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex);

/** The verifier checks that bear on one sale's split. */
function relevantChecks(checks: Check[], saleId: number, tokenSymbol: string): Check[] {
  return checks.filter(
    (c) =>
      c.section === "deployment" ||
      c.section === "batch" ||
      c.section === "contributors" ||
      c.id === `sale-${saleId}` ||
      c.id === `released-${tokenSymbol}` ||
      c.id === `shares-${tokenSymbol}`,
  );
}

function problemLines(check: Check): string {
  const lines = check.details.filter((d) => /←|≠|differs|expected|says|rule gives|reverts|not /.test(d));
  return [check.title, ...lines.slice(0, 5)].join("; ");
}

async function chainSaleBatch(escrow: EscrowViews, saleId: number): Promise<string> {
  const count = await escrow.saleCount();
  if (BigInt(saleId) > count || saleId < 1) throw notFound("sale_not_found", `no sale ${saleId}`);
  const sale = await escrow.getSale(saleId);
  return sale.batchId.toLowerCase();
}

export async function buildSaleAudit(deps: AuditDeps, saleId: number): Promise<SaleAudit> {
  const batchId = await chainSaleBatch(deps.escrow, saleId);
  const facts = await deps.chain.batch(batchId);
  const sale = facts.snap.sales.find((s) => s.created.saleId === BigInt(saleId));
  if (sale === undefined) {
    // The node contradicts itself (a lagging node behind a load balancer): try again later.
    throw new DomainError(
      "unavailable",
      "chain_facts_missing",
      `getSale(${saleId}) names batch ${batchId} but no SaleCreated was found`,
    );
  }
  return auditFromFacts(deps, facts, sale);
}

/** A recorder of differences between the index and the chain, for one sale. */
type Differ = (field: string, index: unknown, chain: unknown) => void;

function differ(saleId: number, out: Discrepancy[]): Differ {
  return (field, index, chain) => {
    const i = index === null || index === undefined ? null : String(index);
    const c = chain === null || chain === undefined ? null : String(chain);
    if (i !== c) out.push({ saleId, field, index: i, chain: c });
  };
}

/** The split of `sale` recomputed from the emitted events: totals, each contributor's share, the remainder. */
function recomputeSplit(deps: AuditDeps, snap: Snapshot, sale: SaleFacts, token: TokenRef, out: Discrepancy[]) {
  const s = sale.created;
  const saleId = Number(s.saleId);
  const dec = token.decimals;
  const source = contributorSource(snap, s.batchId);
  let tree: ContributorTree | null = null;
  if (source !== null) tree = treeOfContributors(source.contributors);
  else out.push({ saleId, field: "chain.contributors", index: null, chain: "no emitted contributor list" });
  const total = tree?.totalWeight ?? 0n;
  const releases = sale.releases;
  const gross = sum(releases.map((r) => r.gross));
  const fee = sum(releases.map((r) => r.fee));
  const reserve = sum(releases.map((r) => r.reserve));
  const net = sum(releases.map((r) => r.net));
  const reserveExact = sum(releases.map((r) => ((r.gross - r.fee) * s.reserveBps) / BPS));
  const releasedNow =
    snap.released[s.token] ??
    sum(snap.sales.flatMap((x) => x.releases.filter((r) => r.token === s.token).map((r) => r.net)));
  const claimsInToken = snap.claims.filter((c) => c.token === s.token);
  const contributors: AuditContributor[] = (tree?.contributors ?? []).map((c) => {
    const share = sum(
      releases.map(
        (r) => shareOf(r.releasedTotal, c.weight, total) - shareOf(r.releasedTotal - r.net, c.weight, total),
      ),
    );
    const claimed = sum(claimsInToken.filter((cl) => cl.account === c.account).map((cl) => cl.amount));
    const due = shareOf(releasedNow, c.weight, total);
    const claimable = due > claimed ? due - claimed : 0n;
    return {
      account: c.account,
      displayName: deps.users.findByAddress(c.account)?.displayName ?? null,
      weight: c.weight.toString(),
      share: share.toString(),
      shareHuman: human(share, dec),
      claimed: claimed.toString(),
      claimedHuman: human(claimed, dec),
      claimable: claimable.toString(),
      claimableHuman: human(claimable, dec),
    };
  });
  const shares = sum(contributors.map((c) => BigInt(c.share)));
  const reserveRounding = reserve - reserveExact;
  const dust = net - shares;
  const lastTotal = releases.length > 0 ? releases[releases.length - 1].releasedTotal : 0n;
  const batchDust =
    tree === null ? 0n : lastTotal - sum(tree.contributors.map((c) => shareOf(lastTotal, c.weight, total)));
  const parts: RemainderPart[] = [
    {
      where: "reserve",
      amount: reserveRounding.toString(),
      amountHuman: human(reserveRounding, dec),
      explanation:
        "RevenueSplit: fee and net are rounded down and the cooperative's reserve takes the remainder " +
        `(reserve ${reserve} = ⌊(gross − fee) × ${s.reserveBps}/10000⌋ ${reserveExact} + ${reserveRounding})`,
    },
    {
      where: "dust",
      amount: dust.toString(),
      amountHuman: human(dust, dec),
      explanation:
        "shares are ⌊releasedTotal × weight / totalWeight⌋ per batch and token: net − Σ shares added by this sale " +
        `stays in the escrow (batch dust now ${batchDust}, fewer units than the ${contributors.length} contributors) ` +
        "and is paid by a later release of the batch; negative when this release paid out earlier dust",
    },
  ];
  const where: SaleAudit["remainder"]["where"] =
    reserveRounding !== 0n && dust !== 0n
      ? "reserve+dust"
      : reserveRounding !== 0n
        ? "reserve"
        : dust !== 0n
          ? "dust"
          : "none";
  if (tree !== null && (batchDust < 0n || batchDust >= BigInt(Math.max(tree.contributors.length, 1)))) {
    out.push({ saleId, field: "chain.dust", index: null, chain: `batch dust ${batchDust} is out of [0, n)` });
  }
  const remainder: SaleAudit["remainder"] = {
    amount: (reserveRounding + dust).toString(),
    amountHuman: human(reserveRounding + dust, dec),
    where,
    parts,
    batchDust: batchDust.toString(),
  };
  return { tree, total, gross, fee, reserve, net, contributors, claimsInToken, remainder };
}

/** The sale's transactions from the chain, in chain order (with the batch's claims since its first release). */
function chainTransactions(sale: SaleFacts, claimsInToken: Snapshot["claims"]): AuditTransaction[] {
  const tx = (step: TransactionStep, ref: LogRef, extra: Partial<AuditTransaction> = {}): AuditTransaction => ({
    step,
    txHash: ref.txHash,
    blockNumber: ref.blockNumber,
    logIndex: ref.logIndex,
    ...extra,
  });
  const transactions: AuditTransaction[] = [tx("created", sale.created.ref)];
  if (sale.funded) transactions.push(tx("funded", sale.funded.ref));
  if (sale.shipped) transactions.push(tx("shipped", sale.shipped.ref));
  if (sale.disputeOpened) transactions.push(tx("disputed", sale.disputeOpened.ref));
  if (sale.confirmed) transactions.push(tx("confirmed", sale.confirmed.ref));
  if (sale.disputeResolved) transactions.push(tx("resolved", sale.disputeResolved.ref));
  if (sale.cancelled) transactions.push(tx("cancelled", sale.cancelled.ref));
  for (const r of sale.refunds) transactions.push(tx("refunded", r.ref, { amount: r.amount.toString() }));
  for (const r of sale.releases) transactions.push(tx("released", r.ref, { amount: r.net.toString() }));
  if (sale.releases.length > 0) {
    for (const cl of claimsInToken.filter((c) => !before(c.ref, sale.releases[0].ref))) {
      transactions.push(tx("claim", cl.ref, { account: cl.account, amount: cl.amount.toString() }));
    }
  }
  return transactions.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}

/** The index's sale against the chain's: fields, releases, refunds, dispute and steps. */
function compareSale(
  deps: AuditDeps,
  sale: SaleFacts,
  state: string,
  transactions: AuditTransaction[],
  differ: Differ,
  out: Discrepancy[],
): void {
  const s = sale.created;
  const saleId = Number(s.saleId);
  const idx = deps.index.getSale(saleId);
  if (idx === null) {
    out.push({ saleId, field: "sale", index: null, chain: `sale ${saleId} of batch ${s.batchId}` });
    return;
  }
  differ("batchId", idx.batchId.toLowerCase(), s.batchId);
  differ("cooperativeId", idx.cooperativeId, s.cooperativeId);
  differ("seller", idx.seller, s.seller);
  if (sale.onChain) differ("buyer", idx.buyer, sale.onChain.buyer);
  differ("token", getAddress(idx.token), s.token);
  differ("price", idx.price, s.price);
  differ("quantity", idx.quantity, s.quantity);
  differ("feeBps", idx.feeBps, s.feeBps);
  differ("reserveBps", idx.reserveBps, s.reserveBps);
  differ("state", idx.state, state);
  differ("releases.length", idx.releases.length, sale.releases.length);
  sale.releases.forEach((r, i) => {
    const x = idx.releases[i];
    if (!x) return;
    differ(`releases[${i}].gross`, x.gross, r.gross);
    differ(`releases[${i}].fee`, x.fee, r.fee);
    differ(`releases[${i}].reserve`, x.reserve, r.reserve);
    differ(`releases[${i}].net`, x.net, r.net);
    differ(`releases[${i}].releasedTotal`, x.releasedTotal, r.releasedTotal);
    differ(`releases[${i}].txHash`, x.chain.txHash.toLowerCase(), r.ref.txHash);
    differ(`releases[${i}].blockNumber`, x.chain.blockNumber, r.ref.blockNumber);
    differ(`releases[${i}].logIndex`, x.chain.logIndex, r.ref.logIndex);
  });
  differ("refunds.length", idx.refunds.length, sale.refunds.length);
  sale.refunds.forEach((r, i) => {
    const x = idx.refunds[i];
    if (!x) return;
    differ(`refunds[${i}].amount`, x.amount, r.amount);
    differ(`refunds[${i}].txHash`, x.chain.txHash.toLowerCase(), r.ref.txHash);
  });
  differ("dispute.refundBps", idx.dispute?.resolution?.refundBps ?? null, sale.disputeResolved?.refundBps ?? null);
  const stepKey = (step: string, txHash: string, logIndex: number) => `${step} ${txHash.toLowerCase()}#${logIndex}`;
  const indexSteps = new Set(idx.steps.map((x) => stepKey(x.step, x.chain.txHash, x.chain.logIndex)));
  const chainSteps = new Set(
    transactions.filter((t) => t.step !== "claim").map((t) => stepKey(t.step, t.txHash, t.logIndex)),
  );
  for (const k of chainSteps) if (!indexSteps.has(k)) differ(`steps.${k.split(" ")[0]}`, null, k);
  for (const k of indexSteps) if (!chainSteps.has(k)) differ(`steps.${k.split(" ")[0]}`, k, null);
}

/** The index's batch (commitment, contributors, claims) against the chain's. */
function compareBatch(
  deps: AuditDeps,
  snap: Snapshot,
  sale: SaleFacts,
  split: ReturnType<typeof recomputeSplit>,
  differ: Differ,
  out: Discrepancy[],
): void {
  const { batchId, token } = sale.created;
  const saleId = Number(sale.created.saleId);
  const { tree } = split;
  const batch = deps.index.getBatch(batchId);
  if (batch === null) {
    out.push({ saleId, field: "batch", index: null, chain: batchId });
    return;
  }
  if (tree === null) return;
  const onChain = snap.onChain[batchId];
  if (onChain) {
    differ("batch.totalWeight", batch.totalWeight, onChain.totalWeight);
    differ("batch.contributorsRoot", batch.contributorsRoot.toLowerCase(), onChain.contributorsRoot);
  }
  differ("contributors.length", batch.contributors.length, tree.contributors.length);
  tree.contributors.forEach((c, i) => {
    const x = batch.contributors[i];
    if (!x) return;
    differ(`contributors[${i}].account`, getAddress(x.account), c.account);
    differ(`contributors[${i}].weight`, x.weight, c.weight);
  });
  const indexClaims = deps.index.claimsOf(batchId).filter((c) => getAddress(c.token) === token);
  differ("claims.length", indexClaims.length, split.claimsInToken.length);
  split.contributors.forEach((c, i) => {
    const claimed = sum(indexClaims.filter((x) => getAddress(x.account) === c.account).map((x) => x.amount));
    differ(`contributors[${i}].claimed`, claimed, c.claimed);
  });
}

/** The audit of `sale` from an already collected snapshot of its batch. */
export function auditFromFacts(deps: AuditDeps, facts: BatchFacts, sale: SaleFacts): SaleAudit {
  const { snap } = facts;
  const s = sale.created;
  const saleId = Number(s.saleId);
  const token = tokenOf(snap, s.token);
  const dec = token.decimals;
  const discrepancies: Discrepancy[] = [];
  const record = differ(saleId, discrepancies);

  // 1. The split, recomputed from the emitted events; 2. the transactions, from the chain.
  const split = recomputeSplit(deps, snap, sale, token, discrepancies);
  const transactions = chainTransactions(sale, split.claimsInToken);

  // 3. The verifier's own checks of this sale (commitment, merge rule, split rule, shares, views).
  const checks = relevantChecks(facts.checks, saleId, token.symbol);
  for (const c of checks.filter((c) => !c.ok)) {
    discrepancies.push({ saleId, field: `chain.${c.id}`, index: null, chain: problemLines(c) });
  }

  // 4. The index against the chain.
  const state = sale.onChain ? (SALE_STATES[sale.onChain.state] ?? String(sale.onChain.state)) : "unknown";
  compareSale(deps, sale, state, transactions, record, discrepancies);
  compareBatch(deps, snap, sale, split, record, discrepancies);

  const refunded = sum(sale.refunds.map((r) => r.amount));
  return {
    saleId,
    batchId: s.batchId,
    lotCode: snap.registrations[s.batchId]?.info.lotCode ?? null,
    cooperativeId: Number(s.cooperativeId),
    state,
    token,
    price: s.price.toString(),
    priceHuman: human(s.price, dec),
    feeBps: Number(s.feeBps),
    reserveBps: Number(s.reserveBps),
    gross: split.gross.toString(),
    grossHuman: human(split.gross, dec),
    fee: split.fee.toString(),
    feeHuman: human(split.fee, dec),
    reserve: split.reserve.toString(),
    reserveHuman: human(split.reserve, dec),
    net: split.net.toString(),
    netHuman: human(split.net, dec),
    refund:
      sale.refunds.length === 0
        ? null
        : {
            amount: refunded.toString(),
            amountHuman: human(refunded, dec),
            refundBps: sale.disputeResolved ? Number(sale.disputeResolved.refundBps) : null,
            buyer: sale.refunds[0].buyer,
          },
    totalWeight: split.total.toString(),
    contributorsRoot: split.tree?.root ?? "",
    contributors: split.contributors,
    remainder: split.remainder,
    transactions,
    consistent: discrepancies.length === 0,
    discrepancies,
    verifiedAt: { block: snap.block, checks: checks.map((c) => ({ id: c.id, ok: c.ok, title: c.title })) },
  };
}
