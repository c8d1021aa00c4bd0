/**
 * The audit of a cooperative over a period: every sale created, released or refunded in it, each
 * audited against the chain (sale.ts), with totals per token and per member, the reserve balance
 * (escrow.reserveOf) and what members can still claim. Sales and claims are paginated.
 */
import { ZERO_ADDRESS as ZeroAddress, toAddress as getAddress } from "../chain/address";
import { notFound } from "../services/errors";
import { mapLimit } from "../verifier/rpc";
import { buildSaleAudit, human, type AuditDeps, type Discrepancy, type SaleAudit, type TokenRef } from "./sale";
import { safeText, salePayoutRows, type PayoutRow } from "./csv";

export interface Period {
  /** Unix seconds, inclusive. */
  from: number | null;
  to: number | null;
}

export interface CooperativeAuditOptions extends Period {
  limit: number;
  offset: number;
}

export interface PeriodClaim {
  batchId: string;
  lotCode: string | null;
  token: TokenRef;
  account: string;
  displayName: string | null;
  amount: string;
  amountHuman: string | null;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  time: number;
}

export interface CooperativeAudit {
  cooperativeId: number;
  name: string;
  period: { from: string | null; to: string | null };
  tokens: {
    token: TokenRef;
    sales: number;
    gross: string;
    fee: string;
    reserve: string;
    net: string;
    refunded: string;
    /** Members' shares of the releases in the period. */
    shares: string;
    /** Claims paid in the period. */
    claimed: string;
    /** Still claimable now by the members, over the batches of these sales. */
    outstanding: string;
    /** escrow.reserveOf(cooperative, token) now. */
    reserveBalance: string;
    reserveBalanceHuman: string | null;
  }[];
  members: {
    account: string;
    displayName: string | null;
    token: TokenRef;
    shares: string;
    sharesHuman: string | null;
    claimed: string;
    claimedHuman: string | null;
    claimable: string;
    claimableHuman: string | null;
  }[];
  outstandingClaims: {
    account: string;
    displayName: string | null;
    token: TokenRef;
    batchId: string;
    claimable: string;
  }[];
  sales: {
    items: (Omit<SaleAudit, "transactions" | "verifiedAt" | "contributors"> & {
      createdAt: number;
      releasedAt: number | null;
      payouts: PayoutRow[];
    })[];
    total: number;
    limit: number;
    offset: number;
  };
  claims: { items: PeriodClaim[]; total: number; limit: number; offset: number };
  consistent: boolean;
  discrepancies: Discrepancy[];
}

const within = (t: number, p: Period) => (p.from === null || t >= p.from) && (p.to === null || t <= p.to);
const iso = (t: number | null) => (t === null ? null : new Date(t * 1000).toISOString());

/** A sale's audit with the times of its creation, release and refund (unix seconds, from the node). */
interface TimedAudit {
  audit: SaleAudit;
  createdAt: number;
  releasedAt: number | null;
  refundedAt: number | null;
}

type Totals = Record<
  "sales" | "gross" | "fee" | "reserve" | "net" | "refunded" | "shares" | "claimed" | "outstanding",
  bigint
>;

interface MemberTotals {
  account: string;
  token: TokenRef;
  shares: bigint;
  claimed: bigint;
  claimable: bigint;
}

/** Every sale of the cooperative, audited, with its times. */
async function timedAudits(deps: AuditDeps, cooperativeId: number): Promise<TimedAudit[]> {
  const audits = await mapLimit(deps.index.saleIdsOf(cooperativeId), 4, (id) => buildSaleAudit(deps, id));
  return mapLimit(audits, 8, async (a) => {
    const times = await Promise.all(a.transactions.map((t) => deps.chain.blockTime(t.blockNumber)));
    const at = (step: string) => {
      const i = a.transactions.findIndex((t) => t.step === step);
      return i < 0 ? null : times[i];
    };
    return { audit: a, createdAt: at("created")!, releasedAt: at("released"), refundedAt: at("refunded") };
  });
}

/** Claims of the batches sold, paid in the period (a claim belongs to a batch and token, not a sale). */
async function periodClaims(
  deps: AuditDeps,
  inPeriod: TimedAudit[],
  tokens: Map<string, TokenRef>,
  period: Period,
): Promise<PeriodClaim[]> {
  const claims: PeriodClaim[] = [];
  for (const key of new Set(inPeriod.map((x) => x.audit.batchId))) {
    const { snap } = await deps.chain.batch(key);
    for (const cl of snap.claims) {
      const time = await deps.chain.blockTime(cl.ref.blockNumber);
      if (!within(time, period)) continue;
      const token = tokens.get(cl.token) ?? { address: cl.token, symbol: cl.token, decimals: null };
      claims.push({
        batchId: key,
        lotCode: snap.registrations[key]?.info.lotCode ?? null,
        token,
        account: cl.account,
        displayName: deps.users.findByAddress(cl.account)?.displayName ?? null,
        amount: cl.amount.toString(),
        amountHuman: human(cl.amount, token.decimals),
        txHash: cl.ref.txHash,
        blockNumber: cl.ref.blockNumber,
        logIndex: cl.ref.logIndex,
        time,
      });
    }
  }
  return claims.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}

/** Totals per token and per member, and the claims still outstanding, over the sales and claims of the period. */
function aggregate(inPeriod: TimedAudit[], claims: PeriodClaim[], period: Period) {
  const members = new Map<string, MemberTotals>();
  const member = (account: string, token: TokenRef) => {
    const k = `${account}/${token.address}`;
    let m = members.get(k);
    if (m === undefined) {
      m = { account, token, shares: 0n, claimed: 0n, claimable: 0n };
      members.set(k, m);
    }
    return m;
  };
  const totals = new Map<string, Totals>();
  const total = (token: string) => {
    let t = totals.get(token);
    if (t === undefined) {
      t = {
        sales: 0n,
        gross: 0n,
        fee: 0n,
        reserve: 0n,
        net: 0n,
        refunded: 0n,
        shares: 0n,
        claimed: 0n,
        outstanding: 0n,
      };
      totals.set(token, t);
    }
    return t;
  };
  for (const x of inPeriod) {
    const a = x.audit;
    const t = total(a.token.address);
    t.sales += 1n;
    if (x.refundedAt !== null && within(x.refundedAt, period)) t.refunded += BigInt(a.refund?.amount ?? "0");
    if (x.releasedAt !== null && within(x.releasedAt, period)) {
      t.gross += BigInt(a.gross);
      t.fee += BigInt(a.fee);
      t.reserve += BigInt(a.reserve);
      t.net += BigInt(a.net);
      for (const c of a.contributors) {
        t.shares += BigInt(c.share);
        member(c.account, a.token).shares += BigInt(c.share);
      }
    }
  }
  for (const cl of claims) {
    total(cl.token.address).claimed += BigInt(cl.amount);
    member(cl.account, cl.token).claimed += BigInt(cl.amount);
  }
  // What is still claimable is per batch and token: the latest audit of each says it.
  const batchTokens = new Map<string, SaleAudit>();
  for (const x of inPeriod) batchTokens.set(`${x.audit.batchId}/${x.audit.token.address}`, x.audit);
  const outstandingClaims: CooperativeAudit["outstandingClaims"] = [];
  for (const a of batchTokens.values()) {
    for (const c of a.contributors) {
      const due = BigInt(c.claimable);
      member(c.account, a.token).claimable += due;
      total(a.token.address).outstanding += due;
      if (due > 0n) {
        outstandingClaims.push({
          account: c.account,
          displayName: c.displayName,
          token: a.token,
          batchId: a.batchId,
          claimable: c.claimable,
        });
      }
    }
  }
  return { total, members: [...members.values()], outstandingClaims };
}

export async function buildCooperativeAudit(
  deps: AuditDeps,
  cooperativeId: number,
  options: CooperativeAuditOptions,
): Promise<CooperativeAudit> {
  const coop = deps.index.getCooperative(cooperativeId);
  if (coop === null) throw notFound("cooperative_not_found", `no cooperative ${cooperativeId}`);
  const timed = await timedAudits(deps, cooperativeId);
  const inPeriod = timed.filter(
    (x) =>
      within(x.createdAt, options) ||
      (x.releasedAt !== null && within(x.releasedAt, options)) ||
      (x.refundedAt !== null && within(x.refundedAt, options)),
  );
  const tokens = new Map<string, TokenRef>([[ZeroAddress, { address: ZeroAddress, symbol: "ETH", decimals: 18 }]]);
  for (const x of timed) tokens.set(x.audit.token.address, x.audit.token);
  const claims = await periodClaims(deps, inPeriod, tokens, options);
  const { total, members, outstandingClaims } = aggregate(inPeriod, claims, options);
  const tokenList = await mapLimit([...tokens.values()], 4, async (token) => {
    const t = total(token.address);
    const reserveBalance = await deps.escrow.reserveOf(cooperativeId, token.address);
    return {
      token,
      ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, k === "sales" ? Number(v) : v.toString()])),
      reserveBalance: reserveBalance.toString(),
      reserveBalanceHuman: human(reserveBalance, token.decimals),
    } as unknown as CooperativeAudit["tokens"][number];
  });

  const { limit, offset } = options;
  return {
    cooperativeId,
    name: coop.name,
    period: { from: iso(options.from), to: iso(options.to) },
    tokens: tokenList,
    members: members.map((m) => ({
      account: m.account,
      displayName: deps.users.findByAddress(getAddress(m.account))?.displayName ?? null,
      token: m.token,
      shares: m.shares.toString(),
      sharesHuman: human(m.shares, m.token.decimals),
      claimed: m.claimed.toString(),
      claimedHuman: human(m.claimed, m.token.decimals),
      claimable: m.claimable.toString(),
      claimableHuman: human(m.claimable, m.token.decimals),
    })),
    outstandingClaims,
    sales: {
      items: inPeriod.slice(offset, offset + limit).map((x) => {
        const { transactions: _t, verifiedAt: _v, contributors: _c, ...rest } = x.audit;
        const released = x.releasedAt !== null && within(x.releasedAt, options);
        return {
          ...rest,
          createdAt: x.createdAt,
          releasedAt: x.releasedAt,
          payouts: released ? salePayoutRows(x.audit).filter((r) => r.kind === "share") : [],
        };
      }),
      total: inPeriod.length,
      limit,
      offset,
    },
    claims: { items: claims.slice(offset, offset + limit), total: claims.length, limit, offset },
    consistent: inPeriod.every((x) => x.audit.consistent),
    discrepancies: inPeriod.flatMap((x) => x.audit.discrepancies),
  };
}

/** The CSV rows of a cooperative audit page: the shares of its sales, then its claims. */
export function cooperativePayoutRows(audit: CooperativeAudit): PayoutRow[] {
  return [
    ...audit.sales.items.flatMap((s) => s.payouts),
    ...audit.claims.items.map((c) => ({
      sale_id: null,
      batch_id: c.batchId,
      lot_code: c.lotCode,
      kind: "claim",
      account: c.account,
      display_name: safeText(c.displayName),
      weight: null,
      token: c.token.address,
      symbol: c.token.symbol,
      decimals: c.token.decimals,
      amount: c.amount,
      amount_decimal: c.amountHuman,
      tx_hash: c.txHash,
      block_number: c.blockNumber,
      log_index: c.logIndex,
    })),
  ];
}
