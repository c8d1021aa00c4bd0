/**
 * Regional figures: per region, per province and per product, per month (UTC), from a snapshot of the index.
 *
 * PRIVACY RULE. No published figure may let a reader single out one member. Every cell derived from
 * members (a members count, a quantity delivered, a revenue and the share that reached members) is
 * published only when at least K_ANONYMITY distinct members stand behind it; otherwise it is null
 * with `suppressed: true` (the page shows "—"). A suppressed cell could still be recovered by
 * difference, since the regions and the products of one month add up to the same total: so, per
 * month and per unit or currency, if the suppressed cells of one dimension together stand for fewer than
 * K members, the smallest published cells of that dimension are suppressed too until they do (or all
 * are). No total over months or over a dimension is published. Counts of cooperatives, of women's
 * cooperatives, of batches and of sales are public registry and chain facts about cooperatives, not
 * about members, and are always shown.
 *
 * Places. A cooperative's region and province come from the fixed list of domain/regions.ts: the
 * province code it was registered with, or older free text mapped to the list when it names a place
 * (in any usual spelling); otherwise its figures go under the region "unknown" (not given).
 *
 * Lineage. A lot split, merged or transformed from others traces back to the harvested (registered)
 * lots it was drawn from, its origins. A lot is new to the figures when it is harvested, or when it is
 * a transformation (a merge into a product none of its inputs was: rose water distilled from petals);
 * a split or a blend of one product moves quantities already counted. A product's cooperatives and
 * members in a month are those behind its new lots and its sales that month, traced through the
 * origins: rose water sold by a union counts the cooperatives whose petals went into it, and
 * `originLots` counts the harvested lots behind the month's sales.
 *
 * Definitions. Cooperatives, women's cooperatives and members of a region or a province are counted at
 * the end of the month (registered by then, members not removed by then). Quantities are summed per
 * unit, never across units. Sales and revenue are the payments released in the month (confirmation,
 * timeout or dispute ruling), counted where the selling cooperative is, per currency (tokens of one
 * currency are added, in the largest number of decimals among them), never across currencies; the
 * members' share is net / gross (what remains after the platform fee and the cooperative's reserve,
 * shared among the contributors).
 */
import { placeOf, provinceByCode } from "../../domain/regions";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { BatchRow, StatsSnapshot } from "./query";

/** k-anonymity threshold: a member-derived figure needs at least this many distinct members behind it. */
export const K_ANONYMITY = 3;

/** The key of the cooperatives whose region is not given (or not one of the list). */
export const UNKNOWN_PLACE = "unknown";

export interface TokenMeta {
  symbol: string;
  decimals: number;
  /** ISO 4217 code the escrow recorded with the token ("ETH" for ether), null if none. */
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
  /** ISO 4217 code ("MAD", "EUR", "ETH"), null for a token without one (then shown in its smallest unit). */
  currency: string | null;
  /** The tokens paid in, by address (several tokens of one currency are added). */
  tokens: string[];
  symbol: string | null;
  decimals: number | null;
  /** Exact integer amounts in units of 10^-decimals, null when suppressed. */
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
  /** New lots: harvested, or transformed into the product. */
  batches: number;
  quantities: QuantityFigure[];
  sales: number;
  /** Harvested lots behind the month's sales, traced through splits, merges and transformations. */
  originLots: number;
  revenue: RevenueFigure[];
}

export interface AreaStats {
  /** The region's or province's code (domain/regions.ts), "unknown", or the product code. */
  key: string;
  months: MonthCell[];
}

export interface Stats {
  k: number;
  lastBlock: number | null;
  months: string[];
  regions: AreaStats[];
  provinces: AreaStats[];
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
  origins: Set<string>;
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
    origins: new Set(),
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

/** How revenue is grouped: by currency when the token has one, else by the token itself. */
interface MoneyKey {
  key: string;
  currency: string | null;
  tokens: Set<string>;
  symbol: string | null;
  decimals: number | null;
}

/** The revenue groups of the tokens paid in: one per currency (decimals: the largest of its tokens). */
function moneyKeys(tokens: string[], meta: Map<string, TokenMeta>): Map<string, MoneyKey> {
  const byToken = new Map<string, MoneyKey>();
  const groups = new Map<string, MoneyKey>();
  for (const token of tokens) {
    const m = meta.get(token);
    const currency = m?.currency ?? null;
    const key = currency === null ? `token:${token}` : `currency:${currency}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, currency, tokens: new Set(), symbol: m?.symbol ?? null, decimals: m?.decimals ?? null };
      groups.set(key, g);
    } else if (m !== undefined && g.decimals !== null && m.decimals > g.decimals) {
      g.decimals = m.decimals;
    }
    g.tokens.add(token);
    byToken.set(token, g);
  }
  return byToken;
}

/** An amount of `token` in the group's decimals (exact: a group only ever scales up). */
function scaled(raw: string, token: string, group: MoneyKey, meta: Map<string, TokenMeta>): bigint {
  const d = meta.get(token)?.decimals;
  if (d === undefined || group.decimals === null) return BigInt(raw);
  return BigInt(raw) * 10n ** BigInt(group.decimals - d);
}

/** Ether first, then currencies in alphabetical order, then tokens without one. */
function moneyOrder(a: MoneyKey, b: MoneyKey): number {
  const rank = (g: MoneyKey) => (g.currency === "ETH" || g.tokens.has(ZeroAddress) ? 0 : g.currency !== null ? 1 : 2);
  return rank(a) - rank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** The harvested lots each lot traces back to (itself for a harvest), through splits, merges and transformations. */
function originsOf(batches: Map<string, BatchRow>, parents: Map<string, string[]>): (batchId: string) => Set<string> {
  const memo = new Map<string, Set<string>>();
  const walk = (id: string, path: Set<string>): Set<string> => {
    const hit = memo.get(id);
    if (hit !== undefined) return hit;
    const out = new Set<string>();
    const b = batches.get(id);
    if (b?.kind === "registered" || path.has(id)) out.add(id);
    else {
      path.add(id);
      for (const p of parents.get(id) ?? []) for (const o of walk(p, path)) out.add(o);
      path.delete(id);
    }
    memo.set(id, out);
    return out;
  };
  return (id) => walk(id, new Set());
}

/** A lot new to the figures: a harvest, or a transformation (a merge into a product none of its inputs was). */
function isNewLot(b: BatchRow, parents: Map<string, string[]>, byId: Map<string, BatchRow>): boolean {
  if (b.kind === "registered") return true;
  if (b.kind !== "merge") return false;
  return (parents.get(b.batchId) ?? []).every((id) => byId.get(id)?.productCode !== b.productCode);
}

/** The batches each batch was drawn from. */
function parentsOf(snap: StatsSnapshot): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const l of snap.lineage) {
    let list = parents.get(l.childId);
    if (list === undefined) parents.set(l.childId, (list = []));
    list.push(l.parentId);
  }
  return parents;
}

type Dim = Map<string, Map<string, Draft>>;

export function computeStats(
  snap: StatsSnapshot,
  tokens: Map<string, TokenMeta>,
  options: { k?: number; now?: number } = {},
): Stats {
  const k = options.k ?? K_ANONYMITY;
  const coops = new Map(
    snap.cooperatives.map((c) => {
      const place = placeOf(c.region);
      return [c.cooperativeId, { ...c, regionKey: place.region ?? UNKNOWN_PLACE, provinceKey: place.province }];
    }),
  );
  const batchById = new Map(snap.batches.map((b) => [b.batchId, b]));
  const contributorsOf = (batchId: string) => snap.contributors.get(batchId) ?? [];
  const parents = parentsOf(snap);
  const origins = originsOf(batchById, parents);
  const money = moneyKeys(tokensOf(snap), tokens);

  const seen: string[] = [
    ...snap.cooperatives.map((c) => monthOf(c.since)),
    ...snap.members.map((m) => monthOf(m.since)),
    ...snap.batches.map((b) => b.month),
    ...snap.releases.map((r) => r.month),
  ].sort();
  const months = seen.length === 0 ? [] : monthsBetween(seen[0], seen[seen.length - 1]);
  const monthSet = new Set(months);

  const regions: Dim = new Map();
  const provinces: Dim = new Map();
  const products: Dim = new Map();
  const cell = (dim: Dim, key: string, month: string): Draft => {
    let byMonth = dim.get(key);
    if (byMonth === undefined) {
      byMonth = new Map(months.map((m) => [m, draft()]));
      dim.set(key, byMonth);
    }
    return byMonth.get(month)!;
  };
  type Coop = NonNullable<ReturnType<typeof coops.get>>;
  /** The region's and (when known) the province's cells of a cooperative for a month. */
  const places = (coop: Coop, month: string): Draft[] =>
    coop.provinceKey === null
      ? [cell(regions, coop.regionKey, month)]
      : [cell(regions, coop.regionKey, month), cell(provinces, coop.provinceKey, month)];
  /** A product's cooperatives and members: those of the origins of `batchId` (and its own contributors). */
  const productPeople = (d: Draft, batchId: string) => {
    for (const o of origins(batchId)) {
      const coop = coops.get(batchById.get(o)?.cooperativeId ?? -1);
      if (coop !== undefined) {
        d.cooperatives.add(coop.cooperativeId);
        if (coop.womenLed) d.women.add(coop.cooperativeId);
      }
      for (const a of contributorsOf(o)) d.members.add(a);
    }
    for (const a of contributorsOf(batchId)) d.members.add(a);
  };

  // Stocks of each region and province at the end of each month.
  for (const c of coops.values()) places(c, months[0]);
  for (const month of months) {
    const end = monthEnd(month);
    for (const c of coops.values()) {
      if (c.since >= end) continue;
      for (const d of places(c, month)) {
        d.cooperatives.add(c.cooperativeId);
        if (c.womenLed) d.women.add(c.cooperativeId);
      }
    }
    for (const m of snap.members) {
      const coop = coops.get(m.cooperativeId);
      if (coop === undefined || m.since >= end || (m.until !== null && m.until < end)) continue;
      for (const d of places(coop, month)) d.members.add(m.account);
    }
  }

  // New lots (harvests and transformations) of the month.
  for (const b of snap.batches) {
    const coop = coops.get(b.cooperativeId);
    if (coop === undefined || !monthSet.has(b.month) || !isNewLot(b, parents, batchById)) continue;
    const contributors = contributorsOf(b.batchId);
    const p = cell(products, b.productCode, b.month);
    for (const d of [...places(coop, b.month), p]) {
      d.batches += 1;
      const q = acc(d.quantities, b.unit);
      q.sum += BigInt(b.quantity);
      for (const a of contributors) q.members.add(a);
    }
    productPeople(p, b.batchId);
  }

  // Payments released in the month.
  for (const r of snap.releases) {
    const coop = coops.get(r.cooperativeId);
    const group = money.get(r.token);
    if (coop === undefined || group === undefined || !monthSet.has(r.month)) continue;
    const contributors = contributorsOf(r.batchId);
    const p = cell(products, r.productCode, r.month);
    for (const d of [...places(coop, r.month), p]) {
      d.sales.add(r.saleId);
      for (const o of origins(r.batchId)) d.origins.add(o);
      const v = acc(d.revenue, group.key);
      v.sum += scaled(r.gross, r.token, group, tokens);
      v.net += scaled(r.net, r.token, group, tokens);
      for (const a of contributors) v.members.add(a);
    }
    productPeople(p, r.batchId);
  }

  suppressDim(regions, months, k);
  // A region's figure is the sum of its provinces': their cells are suppressed within each region, so
  // that the region's total less its shown provinces never stands for fewer than k members.
  suppressDim(provinces, months, k, (key) => provinceByCode(key)?.region ?? "");
  suppressDim(products, months, k);
  const groups = new Map([...money.values()].map((g) => [g.key, g]));
  const finish = (dim: Dim, keep: (a: AreaStats) => boolean): AreaStats[] =>
    [...dim.keys()]
      .sort()
      .map((key) => ({ key, months: months.map((month) => finishCell(month, dim.get(key)!.get(month)!, k, groups)) }))
      .filter(keep);
  const active = (a: AreaStats) => a.months.some((m) => m.batches > 0 || m.sales > 0);
  return {
    k,
    lastBlock: snap.lastBlock,
    months,
    regions: finish(regions, () => true),
    provinces: finish(provinces, () => true),
    products: finish(products, active),
  };
}

/** Suppression per month and per unit or currency, within one dimension (and within each `groupOf` its keys). */
function suppressDim(dim: Dim, months: string[], k: number, groupOf: (key: string) => string = () => ""): void {
  for (const month of months) {
    const groups = new Map<string, Acc[]>();
    for (const [key, byMonth] of dim) {
      const d = byMonth.get(month)!;
      const g = groupOf(key);
      for (const [unit, a] of d.quantities) acc2(groups, `${g}|q|${unit}`).push(a);
      for (const [money, a] of d.revenue) acc2(groups, `${g}|r|${money}`).push(a);
    }
    for (const cells of groups.values()) suppress(cells, k);
  }
}

function finishCell(month: string, d: Draft, k: number, groups: Map<string, MoneyKey>): MonthCell {
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
    originLots: d.origins.size,
    revenue: [...d.revenue.entries()]
      .map(([key, a]) => [groups.get(key)!, a] as const)
      .sort(([a], [b]) => moneyOrder(a, b))
      .map(([g, a]): RevenueFigure => {
        const ppm = sharePpm(a.net, a.sum);
        const hide = a.suppressed;
        return {
          currency: g.currency,
          tokens: [...g.tokens].sort(),
          symbol: g.symbol,
          decimals: g.decimals,
          gross: hide ? null : a.sum.toString(),
          grossHuman: hide || g.decimals === null ? null : toDecimal(a.sum, g.decimals),
          net: hide ? null : a.net.toString(),
          netHuman: hide || g.decimals === null ? null : toDecimal(a.net, g.decimals),
          membersSharePpm: hide ? null : ppm,
          membersSharePercent: hide ? null : percentOfPpm(ppm),
          suppressed: hide,
        };
      }),
  };
}

function acc2(groups: Map<string, Acc[]>, key: string): Acc[] {
  let list = groups.get(key);
  if (list === undefined) groups.set(key, (list = []));
  return list;
}

/** The tokens that revenue was paid in (to resolve their decimals and currency before computing). */
export function tokensOf(snap: StatsSnapshot): string[] {
  return [...new Set(snap.releases.map((r) => r.token))];
}
