/**
 * Regional figures (issue 5, "Regional figures"): GET /api/v1/stats (public JSON, in the OpenAPI
 * document) and GET /stats (public HTML page in four languages). Read-only over the chain index; the
 * privacy rule (k-anonymity, K_ANONYMITY = 3) is stated and applied in compute.ts.
 */
import type { Express, Request, Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../api/context";
import type { OpenApiBuilder } from "../api/openapi";
import { sendProblem } from "../api/problem";
import { CONTENT_SECURITY_POLICY } from "../pages";
import { CATALOGS, chooseLang, type Lang } from "../pages/i18n";
import { createTokenLookup } from "../pages/tokens";
import { computeStats, K_ANONYMITY, tokensOf, type Stats, type TokenMeta } from "./compute";
import { createStatsQueries } from "./query";
import { statsPage } from "./view";

export { K_ANONYMITY, computeStats, toDecimal } from "./compute";
export type { Stats } from "./compute";

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

export function statsRoutes(app: Express, router: Router, api: OpenApiBuilder, ctx: GatewayContext): void {
  const snapshot = createStatsQueries(ctx.db);
  const tokens = createTokenLookup(ctx.provider);
  const lastBlock = ctx.db.prepare<[], { last_block: number | null }>(`SELECT last_block FROM ix_state WHERE id = 1`);
  let cached: { block: number | null | undefined; stats: Stats; complete: boolean } | null = null;

  /** The figures, computed again only when the index has moved (or a token's decimals were missing). */
  async function current(): Promise<Stats> {
    const block = lastBlock.get()?.last_block;
    if (cached !== null && cached.block === block && cached.complete) return cached.stats;
    const snap = snapshot();
    const meta = new Map<string, TokenMeta>();
    let complete = true;
    for (const token of tokensOf(snap)) {
      try {
        const info = await tokens(token);
        meta.set(token, { symbol: info.symbol, decimals: info.decimals });
      } catch (err) {
        // Shown in the token's smallest unit only; tried again on the next request.
        complete = false;
        ctx.log.warn({ err: String((err as Error)?.message ?? err), token }, "stats: token decimals unreadable");
      }
    }
    const stats = computeStats(snap, meta);
    cached = { block: snap.lastBlock, stats, complete };
    return stats;
  }

  api.defineRoute(router, {
    method: "get",
    path: "/stats",
    summary:
      "Regional figures per region and per product, per month (UTC): cooperatives, members, batches, quantities, sales, revenue and the members' share; small member-derived cells suppressed (k-anonymity, k = 3)",
    tags: ["stats"],
    auth: [],
    query: z.object({}),
    responses: { 200: "the figures" },
    async handler({ res }) {
      res.set("Cache-Control", "public, max-age=60");
      return { privacy: { k: K_ANONYMITY, rule: PRIVACY_RULE }, definitions: DEFINITIONS, ...(await current()) };
    },
  });

  const hrefFor = (req: Request) => {
    const url = new URL(req.originalUrl, "http://page.invalid");
    return (lang: Lang) => {
      url.searchParams.set("lang", lang);
      return url.pathname + url.search;
    };
  };

  app.get("/stats", async (req, res) => {
    const c = CATALOGS[chooseLang(req.query.lang, req.get("accept-language"))];
    res.set({
      "Content-Security-Policy": CONTENT_SECURITY_POLICY,
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "no-referrer",
      "Content-Language": c.lang,
    });
    res.vary("Accept-Language");
    try {
      const stats = await current();
      res.set("Cache-Control", "public, max-age=60");
      res.type("html").send(statsPage(stats, c, hrefFor(req)));
    } catch (err) {
      ctx.log.error({ err }, "stats page failed");
      sendProblem(res, 500, "internal", "an internal error occurred; it was logged");
    }
  });
}
