/**
 * Regional figures: per region and per product, per month (UTC), from a snapshot of the index.
 *
 * PRIVACY RULE. No published figure may let a reader single out one member. Every cell derived from
 * members (a members count, a quantity delivered, a revenue and the share that reached members) is
 * published only when at least K_ANONYMITY distinct members stand behind it; otherwise it is null
 * with `suppressed: true` (the page shows "—"). A suppressed cell could still be recovered by
 * difference, since the regions and the products of one month add up to the same total: so, per
 * month and per unit or token, if the suppressed cells of one dimension together stand for fewer than
 * K members, the smallest published cells of that dimension are suppressed too until they do (or all
 * are). No total over months or over a dimension is published. Counts of cooperatives, of women's
 * cooperatives, of batches and of sales are public registry and chain facts about cooperatives, not
 * about members, and are always shown.
 *
 * Definitions. Cooperatives, women's cooperatives and members of a region are counted at the end of
 * the month (registered by then, members not removed by then). For a product, they are those that
 * delivered in the month: cooperatives and members (contributors) of the batches registered then.
 * A region's batches and quantities are registered (harvested) batches only; splits and merges move
 * quantities that are already counted there. A product's are also the lots made into it in the month
 * (merged, split, transformed), with the cooperatives of the harvests they come from (through the
 * lineage): rose water sold in a month is never shown beside "0 lots, 0 cooperatives". Quantities are summed per unit, never across units. Sales and revenue are
 * the payments released in the month (confirmation, timeout or dispute ruling), per token, never
 * across tokens; the members' share is net / gross (what remains after the platform fee and the
 * cooperative's reserve, shared among the contributors).
 */
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { StatsSnapshot } from "./query";

/** k-anonymity threshold: a member-derived figure needs at least this many distinct members behind it. */
export const K_ANONYMITY = 3;

export interface TokenMeta {
  symbol: string;
  decimals: number;
  /** The currency the escrow recorded for the token ("ETH" for ether), null when none. */
  currency?: string | null;
}

export interface MembersFigure {
  count: number | null;
  suppressed: boolean;
}

export interface QuantityFigure {
  unit: string;
  /** Exact integer sum in the unit, null when suppressed. */
  total: string | null;
  suppressed: boolean;
}

export interface RevenueFigure {
  token: string;
  symbol: string | null;
  decimals: number | null;
  /** ISO 4217 code of the token's currency ("ETH" for ether), null when none is recorded or unknown. */
  currency: string | null;
  /** Exact integer amounts in the token's smallest unit, null when suppressed. */
  gross: string | null;
  grossHuman: string | null;
  net: string | null;
  netHuman: string | null;
  /** floor(net × 10^6 / gross): parts per million of the gross that reached members. */
  membersSharePpm: number | null;
  /** The same as a percentage with 4 decimals, truncated ("89.1000"). */
  membersSharePercent: string | null;
  suppressed: boolean;
}

export interface MonthCell {
  month: string;
  cooperatives: number;
  womenCooperatives: number;
  members: MembersFigure;
  batches: number;
  quantities: QuantityFigure[];
  sales: number;
  revenue: RevenueFigure[];
}

export interface AreaStats {
  /** The region's name or the product code. */
  key: string;
  months: MonthCell[];
}

export interface Stats {
  k: number;
  lastBlock: number | null;
  months: string[];
  regions: AreaStats[];
  products: AreaStats[];
}

/** At most this many months (the most recent) are returned. */
export const MAX_MONTHS = 60;

/** `raw` / 10^decimals as an exact decimal string with "." (trailing zeros dropped). */
export function toDecimal(raw: string | bigint, decimals: number): string {
  const value = BigInt(raw);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  if (decimals === 0) return sign + abs.toString();
  const base = 10n ** BigInt(decimals);
  const fraction = (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return sign + (abs / base).toString() + (fraction === "" ? "" : "." + fraction);
}

function monthOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 7);
}

/** First second (UTC) after the month "YYYY-MM". */
function monthEnd(month: string): number {
  const [y, m] = month.split("-").map(Number);
  return Date.UTC(y, m, 1) / 1000;
}

function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  let [y, m] = first.split("-").map(Number);
  for (;;) {
    const key = `${y}-${String(m).padStart(2, "0")}`;
    if (key > last) break;
    out.push(key);
    m += 1;
    if (m === 13) [y, m] = [y + 1, 1];
  }
  return out.slice(-MAX_MONTHS);
}

/** A member-derived sum and the members behind it. */
interface Acc {
  sum: bigint;
  net: bigint;
  members: Set<string>;
  suppressed: boolean;
}

interface Draft {
  cooperatives: Set<number>;
  women: Set<number>;
  members: Set<string>;
  batches: number;
  sales: Set<number>;
  quantities: Map<string, Acc>;
  revenue: Map<string, Acc>;
}

function draft(): Draft {
  return {
    cooperatives: new Set(),
    women: new Set(),
    members: new Set(),
    batches: 0,
    sales: new Set(),
    quantities: new Map(),
    revenue: new Map(),
  };
}

function acc(map: Map<string, Acc>, key: string): Acc {
  let a = map.get(key);
  if (a === undefined) map.set(key, (a = { sum: 0n, net: 0n, members: new Set(), suppressed: false }));
  return a;
}

/** Primary then complementary suppression over the cells of one dimension for one month and key. */
function suppress(cells: Acc[], k: number): void {
  for (const c of cells) c.suppressed = c.members.size < k;
  const hidden = new Set<string>();
  for (const c of cells) if (c.suppressed) for (const m of c.members) hidden.add(m);
  if (hidden.size === 0 || hidden.size >= k) return;
  const shown = cells.filter((c) => !c.suppressed).sort((a, b) => a.members.size - b.members.size);
  for (const c of shown) {
    c.suppressed = true;
    for (const m of c.members) hidden.add(m);
    if (hidden.size >= k) return;
  }
}

function sharePpm(net: bigint, gross: bigint): number {
  return gross === 0n ? 0 : Number((net * 1_000_000n) / gross);
}

function percentOfPpm(ppm: number): string {
  return `${Math.trunc(ppm / 10_000)}.${String(ppm % 10_000).padStart(4, "0")}`;
}

function tokenOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === ZeroAddress) return -1;
  if (b === ZeroAddress) return 1;
  return a < b ? -1 : 1;
}

export function computeStats(
  snap: StatsSnapshot,
  tokens: Map<string, TokenMeta>,
  options: { k?: number; now?: number } = {},
): Stats {
  const k = options.k ?? K_ANONYMITY;
  const coops = new Map(snap.cooperatives.map((c) => [c.cooperativeId, c]));
  const contributorsOf = (batchId: string) => snap.contributors.get(batchId) ?? [];

  const seen: string[] = [
    ...snap.cooperatives.map((c) => monthOf(c.since)),
    ...snap.members.map((m) => monthOf(m.since)),
    ...snap.batches.map((b) => b.month),
    ...snap.releases.map((r) => r.month),
  ].sort();
  const months = seen.length === 0 ? [] : monthsBetween(seen[0], seen[seen.length - 1]);
  const monthSet = new Set(months);

  const regions = new Map<string, Map<string, Draft>>();
  const products = new Map<string, Map<string, Draft>>();
  const cell = (dim: Map<string, Map<string, Draft>>, key: string, month: string): Draft => {
    let byMonth = dim.get(key);
    if (byMonth === undefined) {
      byMonth = new Map(months.map((m) => [m, draft()]));
      dim.set(key, byMonth);
    }
    return byMonth.get(month)!;
  };

  // Stocks of each region at the end of each month.
  for (const c of snap.cooperatives) cell(regions, c.region, months[0]);
  for (const month of months) {
    const end = monthEnd(month);
    for (const c of snap.cooperatives) {
      if (c.since >= end) continue;
      const d = cell(regions, c.region, month);
      d.cooperatives.add(c.cooperativeId);
      if (c.womenLed) d.women.add(c.cooperativeId);
    }
    for (const m of snap.members) {
      const coop = coops.get(m.cooperativeId);
      if (coop === undefined || m.since >= end || (m.until !== null && m.until < end)) continue;
      cell(regions, coop.region, month).members.add(m.account);
    }
  }

  // Batches registered in the month.
  for (const b of snap.batches) {
    const coop = coops.get(b.cooperativeId);
    if (coop === undefined || !monthSet.has(b.month)) continue;
    const contributors = contributorsOf(b.batchId);
    for (const d of [cell(regions, coop.region, b.month), cell(products, b.productCode, b.month)]) {
      d.batches += 1;
      const q = acc(d.quantities, b.unit);
      q.sum += BigInt(b.quantity);
      for (const a of contributors) q.members.add(a);
    }
    const p = cell(products, b.productCode, b.month);
    p.cooperatives.add(coop.cooperativeId);
    if (coop.womenLed) p.women.add(coop.cooperativeId);
    for (const a of contributors) p.members.add(a);
  }

  countMadeLots(snap, coops, (productCode, month) =>
    monthSet.has(month) ? cell(products, productCode, month) : undefined,
  );

  // Payments released in the month.
  for (const r of snap.releases) {
    const coop = coops.get(r.cooperativeId);
    if (coop === undefined || !monthSet.has(r.month)) continue;
    const contributors = contributorsOf(r.batchId);
    for (const d of [cell(regions, coop.region, r.month), cell(products, r.productCode, r.month)]) {
      d.sales.add(r.saleId);
      const v = acc(d.revenue, r.token);
      v.sum += BigInt(r.gross);
      v.net += BigInt(r.net);
      for (const a of contributors) v.members.add(a);
    }
  }

  // Suppression per month and per unit or token, within each dimension.
  for (const dim of [regions, products]) {
    for (const month of months) {
      const groups = new Map<string, Acc[]>();
      for (const byMonth of dim.values()) {
        const d = byMonth.get(month)!;
        for (const [unit, a] of d.quantities) acc2(groups, `q|${unit}`).push(a);
        for (const [token, a] of d.revenue) acc2(groups, `r|${token}`).push(a);
      }
      for (const cells of groups.values()) suppress(cells, k);
    }
  }

  const finish = (dim: Map<string, Map<string, Draft>>, isRegion: boolean): AreaStats[] =>
    [...dim.keys()]
      .sort()
      .map((key) => ({
        key,
        months: months.map((month): MonthCell => {
          const d = dim.get(key)!.get(month)!;
          const membersHidden = d.members.size > 0 && d.members.size < k;
          return {
            month,
            cooperatives: d.cooperatives.size,
            womenCooperatives: d.women.size,
            members: { count: membersHidden ? null : d.members.size, suppressed: membersHidden },
            batches: d.batches,
            quantities: [...d.quantities.entries()]
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([unit, a]) => ({ unit, total: a.suppressed ? null : a.sum.toString(), suppressed: a.suppressed })),
            sales: d.sales.size,
            revenue: [...d.revenue.entries()]
              .sort(([a], [b]) => tokenOrder(a, b))
              .map(([token, a]): RevenueFigure => {
                const meta = tokens.get(token) ?? null;
                const ppm = sharePpm(a.net, a.sum);
                return {
                  token,
                  symbol: meta?.symbol ?? null,
                  decimals: meta?.decimals ?? null,
                  currency: meta?.currency ?? null,
                  gross: a.suppressed ? null : a.sum.toString(),
                  grossHuman: a.suppressed || meta === null ? null : toDecimal(a.sum, meta.decimals),
                  net: a.suppressed ? null : a.net.toString(),
                  netHuman: a.suppressed || meta === null ? null : toDecimal(a.net, meta.decimals),
                  membersSharePpm: a.suppressed ? null : ppm,
                  membersSharePercent: a.suppressed ? null : percentOfPpm(ppm),
                  suppressed: a.suppressed,
                };
              }),
          };
        }),
      }))
      .filter((a) => isRegion || a.months.some((m) => m.batches > 0 || m.sales > 0));

  return { k, lastBlock: snap.lastBlock, months, regions: finish(regions, true), products: finish(products, false) };
}

function acc2(groups: Map<string, Acc[]>, key: string): Acc[] {
  let list = groups.get(key);
  if (list === undefined) groups.set(key, (list = []));
  return list;
}

/** The tokens that revenue was paid in (to resolve their decimals before computing). */
export function tokensOf(snap: StatsSnapshot): string[] {
  return [...new Set(snap.releases.map((r) => r.token))];
}

/**
 * Lots made from others in the month (a merge, a split: rose water distilled from petals), for their
 * product only: the region already counted the harvest they came from, so its lots and quantities would
 * be counted twice there. A made product counts its own lots and quantity, and the cooperatives (and
 * women's cooperatives) of the harvests it comes from, found through the lineage.
 */
function countMadeLots(
  snap: StatsSnapshot,
  coops: Map<number, StatsSnapshot["cooperatives"][number]>,
  productCell: (productCode: string, month: string) => Draft | undefined,
): void {
  const contributorsOf = (batchId: string) => snap.contributors.get(batchId) ?? [];
  const allBatches = new Map([...snap.batches, ...(snap.derived ?? [])].map((b) => [b.batchId, b]));
  const rootsOf = (batchId: string, seen = new Set<string>()): string[] => {
    if (seen.has(batchId)) return [];
    seen.add(batchId);
    const parents = snap.parents?.get(batchId) ?? [];
    return parents.length === 0 ? [batchId] : parents.flatMap((p) => rootsOf(p, seen));
  };
  for (const b of snap.derived ?? []) {
    const p = productCell(b.productCode, b.month);
    if (p === undefined) continue;
    p.batches += 1;
    const contributors = contributorsOf(b.batchId);
    const q = acc(p.quantities, b.unit);
    q.sum += BigInt(b.quantity);
    for (const a of contributors) q.members.add(a);
    for (const a of contributors) p.members.add(a);
    for (const root of rootsOf(b.batchId)) {
      const coop = coops.get(allBatches.get(root)?.cooperativeId ?? b.cooperativeId);
      if (coop === undefined) continue;
      p.cooperatives.add(coop.cooperativeId);
      if (coop.womenLed) p.women.add(coop.cooperativeId);
    }
  }
}
