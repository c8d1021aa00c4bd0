/**
 * Regional figures (issue 5, "Regional figures"): GET /api/v1/stats (public JSON, in the OpenAPI
 * document) and GET /stats (public HTML page in four languages), over HTTP: the figures come from the
 * stats service (server/services/stats.ts); the privacy rule (k-anonymity, K_ANONYMITY = 3) is stated
 * and applied in compute.ts.
 */
import type { Express, Router } from "express";
import { z } from "zod";
import type { OpenApiBuilder } from "../api/openapi";
import { sendProblem } from "../api/problem";
import type { Logger } from "../log";
import { CONTENT_SECURITY_POLICY } from "../pages";
import { CATALOGS, chooseLang } from "../pages/i18n";
import { languageLinks } from "../pages/links";
import type { Services } from "../services";
import { statsPage } from "./view";

export { K_ANONYMITY, computeStats, toDecimal } from "./compute";
export type { Stats } from "./compute";
export { PRIVACY_RULE, DEFINITIONS } from "../services/stats";

/** `deps` holds the gateway's services and its log (the gateway's context will do). */
export function statsRoutes(
  app: Express,
  router: Router,
  api: OpenApiBuilder,
  deps: { services: Pick<Services, "stats" | "payouts">; log: Logger },
): void {
  const { stats, payouts } = deps.services;

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
      return stats.published();
    },
  });

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
      const figures = await stats.figures();
      res.set("Cache-Control", "public, max-age=60");
      // The page reads no parameter but `lang`: its links carry nothing else of the query.
      const rates = (currency: string) => payouts.latestRate(currency);
      res.type("html").send(statsPage(figures, c, languageLinks("/stats"), rates));
    } catch (err) {
      deps.log.error({ err }, "stats page failed");
      sendProblem(res, 500, "internal", "an internal error occurred; it was logged");
    }
  });
}
