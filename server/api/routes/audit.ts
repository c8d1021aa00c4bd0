/**
 * Audit API (auditors and the platform admin): a sale's split recomputed from the chain and
 * compared with the index, a cooperative's sales and payouts over a period, CSV exports of both
 * (`Accept: text/csv` or a `.csv` suffix) and a reconciliation pack per sale, over HTTP: parse, call
 * the audit service (server/services/audit.ts), answer JSON or CSV.
 */
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import { auditPeriodInput } from "../../services/audit";
import { sendCsv } from "../download";
import type { OpenApiBuilder } from "../openapi";
import { id } from "../validate";

const AUDITORS = ["auditor", "platform_admin"];

/** CSV when the client prefers it to JSON (`Accept: text/csv`). */
export function wantsCsv(req: Request): boolean {
  return req.accepts(["application/json", "text/csv"]) === "text/csv";
}

/** A CSV is sent by the route itself (its handler then answers undefined); JSON is answered by defineRoute. */
export function auditRoutes(
  router: Router,
  api: OpenApiBuilder,
  { services }: { services: Pick<Services, "audit"> },
): void {
  const { audit } = services;

  async function saleAudit(saleId: number, req: Request, res: Response, csv: boolean) {
    if (csv) return sendCsv(res, await audit.saleCsv(req.user, saleId));
    const result = await audit.sale(req.user, saleId);
    res.set("Cache-Control", "no-store");
    return result;
  }

  async function cooperativeAudit(
    cooperativeId: number,
    query: z.output<typeof auditPeriodInput>,
    req: Request,
    res: Response,
    csv: boolean,
  ) {
    if (csv) return sendCsv(res, await audit.cooperativeCsv(req.user, cooperativeId, query));
    const result = await audit.cooperative(req.user, cooperativeId, query);
    res.set("Cache-Control", "no-store");
    return result;
  }

  const saleResponses = {
    200: "the audit (JSON, or CSV with Accept: text/csv)",
    401: "no token",
    403: "not an auditor",
    404: "unknown sale",
  };
  // The .csv paths first: `/audit/sales/:id` would otherwise take "5.csv" as an id.
  api.defineRoute(router, {
    method: "get",
    path: "/audit/sales/:id.csv",
    summary: "A sale's payouts as CSV (UTF-8 with BOM, one row per contributor share and per claim)",
    tags: ["audit"],
    auth: AUDITORS,
    params: z.object({ id }),
    responses: saleResponses,
    handler: ({ params, req, res }) => saleAudit(params.id, req, res, true),
  });
  api.defineRoute(router, {
    method: "get",
    path: "/audit/sales/:id/pack",
    summary:
      "Reconciliation pack: the audit, contributors with Merkle proofs, EPCIS history, deployment file, verifier command",
    tags: ["audit"],
    auth: AUDITORS,
    params: z.object({ id }),
    responses: { ...saleResponses, 200: "a JSON bundle" },
    async handler({ params, req, res }) {
      const pack = await audit.salePack(req.user, params.id);
      res.set("Cache-Control", "no-store");
      res.set("Content-Disposition", `attachment; filename="sale-${params.id}-pack.json"`);
      return pack;
    },
  });
  api.defineRoute(router, {
    method: "get",
    path: "/audit/sales/:id",
    summary:
      "A sale's split recomputed from the chain (commitment, releases, claims) and compared with the index: " +
      "gross, fee, reserve, net, each contributor's share, the rounding remainder, the transactions, a consistent verdict",
    tags: ["audit"],
    auth: AUDITORS,
    params: z.object({ id }),
    responses: saleResponses,
    handler: ({ params, req, res }) => saleAudit(params.id, req, res, wantsCsv(req)),
  });

  const coopResponses = {
    200: "the audit (JSON, or CSV with Accept: text/csv)",
    400: "invalid period or paging",
    401: "no token",
    403: "not an auditor",
    404: "unknown cooperative",
  };
  api.defineRoute(router, {
    method: "get",
    path: "/audit/cooperatives/:id.csv",
    summary: "A cooperative's payouts in a period as CSV (the page given by limit and offset)",
    tags: ["audit"],
    auth: AUDITORS,
    params: z.object({ id }),
    query: auditPeriodInput,
    responses: coopResponses,
    handler: ({ params, query, req, res }) => cooperativeAudit(params.id, query, req, res, true),
  });
  api.defineRoute(router, {
    method: "get",
    path: "/audit/cooperatives/:id",
    summary:
      "A cooperative's sales and payouts in a period (from, to: ISO dates), totals per token and member, " +
      "reserve balance, outstanding claims; paginated (limit ≤ 100)",
    tags: ["audit"],
    auth: AUDITORS,
    params: z.object({ id }),
    query: auditPeriodInput,
    responses: coopResponses,
    handler: ({ params, query, req, res }) => cooperativeAudit(params.id, query, req, res, wantsCsv(req)),
  });
}
