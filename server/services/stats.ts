/**
 * Regional figures (public): per region and per product, per month, computed from the index by
 * server/stats/compute.ts (which states and applies the privacy rule), with the tokens' symbols and
 * decimals read from the chain. The API and the /stats page call this; the figures are computed again
 * only when the index has moved.
 */
import type { Logger } from "../log";
import { computeStats, K_ANONYMITY, tokensOf, type Stats, type TokenMeta } from "../stats/compute";
import type { StatsSnapshot } from "../index";

export const PRIVACY_RULE =
  `No figure may let a reader single out one member: a member-derived figure (members count, quantities, ` +
  `revenue and members' share) is null with suppressed: true when fewer than ${K_ANONYMITY} distinct members ` +
  `stand behind it; complementary cells are suppressed so that it cannot be recovered by subtraction.`;

export const DEFINITIONS = {
  months: "UTC calendar months (YYYY-MM) of each row's block time",
  regions:
    "cooperatives, women's cooperatives and members at the end of the month; batches, quantities, sales and revenue in the month",
  products:
    "cooperatives, women's cooperatives and members (contributors) that delivered batches of the product in the month",
  batches: "registered batches only (splits and merges move quantities already counted)",
  quantities: "exact integer sums per unit, never across units",
  sales: "sales whose payment was released in the month (confirmation, timeout or dispute ruling)",
  revenue:
    "per token, never across tokens: gross and net as exact integers in the token's smallest unit and with its decimals; membersSharePpm = floor(net * 1e6 / gross)",
};

/** The published figures: the privacy rule and the definitions travel with them. */
export type PublishedStats = {
  privacy: { k: number; rule: string };
  definitions: typeof DEFINITIONS;
} & Stats;

export interface StatsService {
  figures(): Promise<Stats>;
  published(): Promise<PublishedStats>;
}

export interface StatsServiceDeps {
  /** One consistent read of the index tables the figures need. */
  snapshot: () => StatsSnapshot;
  /** The index's last block: nothing changes until it moves. */
  indexPosition: () => number | null;
  /** A token's symbol and decimals (from the chain, remembered once known). */
  tokenInfo: (address: string) => Promise<TokenMeta>;
  log: Pick<Logger, "warn">;
}

export function createStatsService(deps: StatsServiceDeps): StatsService {
  let cached: { block: number | null; stats: Stats; complete: boolean } | null = null;

  /** The figures, computed again only when the index has moved (or a token's decimals were missing). */
  async function figures(): Promise<Stats> {
    const block = deps.indexPosition();
    if (cached !== null && cached.block === block && cached.complete) return cached.stats;
    const snap = deps.snapshot();
    const meta = new Map<string, TokenMeta>();
    let complete = true;
    for (const token of tokensOf(snap)) {
      try {
        const info = await deps.tokenInfo(token);
        meta.set(token, { symbol: info.symbol, decimals: info.decimals, currency: info.currency ?? null });
      } catch (err) {
        // Shown in the token's smallest unit only; tried again on the next request.
        complete = false;
        deps.log.warn({ err: String((err as Error)?.message ?? err), token }, "stats: token decimals unreadable");
      }
    }
    const stats = computeStats(snap, meta);
    cached = { block: snap.lastBlock, stats, complete };
    return stats;
  }

  return {
    figures,
    async published() {
      return { privacy: { k: K_ANONYMITY, rule: PRIVACY_RULE }, definitions: DEFINITIONS, ...(await figures()) };
    },
  };
}
