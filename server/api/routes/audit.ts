/**
 * Audit API (auditors and the platform admin): a sale's split recomputed from the chain and
 * compared with the index, a cooperative's sales and payouts over a period, CSV exports of both
 * (`Accept: text/csv` or a `.csv` suffix) and a reconciliation pack per sale.
 */
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../context";
import type { OpenApiBuilder } from "../openapi";
import { ApiError } from "../problem";
import { id, paging } from "../validate";
import { createChainReader } from "../../audit/chain";
import { createIndexView } from "../../audit/indexView";
import { buildSaleAudit, type AuditDeps } from "../../audit/sale";
import { buildCooperativeAudit, cooperativePayoutRows } from "../../audit/cooperative";
import { PAYOUT_COLUMNS, salePayoutRows, toCsv } from "../../audit/csv";
import { buildSalePack } from "../../audit/pack";

const AUDITORS = ["auditor", "platform_admin"];

/** An ISO date (start of that day, UTC) or date-time, as unix seconds; `endOfDay` for a date-only `to`. */
function isoInstant(endOfDay: boolean) {
  return z
    .string()
    .refine((s) => /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) && !Number.isNaN(Date.parse(s)), "must be an ISO 8601 date")
    .transform((s) => {
      const ms = Date.parse(s);
      const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s);
      return Math.floor((dateOnly && endOfDay ? ms + 86_400_000 - 1 : ms) / 1000);
    });
}

const periodQuery = paging.extend({
  from: isoInstant(false).optional(),
  to: isoInstant(true).optional(),
});

/** CSV when the client prefers it to JSON (`Accept: text/csv`). */
function wantsCsv(req: Request): boolean {
  return req.accepts(["application/json", "text/csv"]) === "text/csv";
}

function sendCsv(res: Response, filename: string, csv: string): void {
  res
    .status(200)
    .type("text/csv; charset=utf-8")
    .set("Content-Disposition", `attachment; filename="${filename}"`)
    .set("Cache-Control", "no-store")
    .send(csv);
}

export function auditRoutes(router: Router, api: OpenApiBuilder, ctx: GatewayContext): void {
  // A new chain reader per request: facts are read at one block, memoized for that request only.
  const deps = (): AuditDeps & { ctx: GatewayContext } => ({
    ctx,
    chain: createChainReader(ctx),
    index: createIndexView(ctx.db),
  });

  async function saleAudit(saleId: number, res: Response, csv: boolean) {
    const audit = await buildSaleAudit(deps(), saleId);
    res.set("Cache-Control", "no-store");
    if (!csv) return audit;
    sendCsv(res, `sale-${saleId}.csv`, toCsv(PAYOUT_COLUMNS, salePayoutRows(audit)));
    return undefined;
  }

  async function cooperativeAudit(
    cooperativeId: number,
    query: z.output<typeof periodQuery>,
    res: Response,
    csv: boolean,
  ) {
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      throw new ApiError(400, "invalid_field", "from is after to", {
        errors: [{ field: "from", message: "must not be after to" }],
      });
    }
    const audit = await buildCooperativeAudit(deps(), cooperativeId, {
      from: query.from ?? null,
      to: query.to ?? null,
      limit: query.limit,
      offset: query.offset,
    });
    res.set("Cache-Control", "no-store");
    if (!csv) return audit;
    sendCsv(res, `cooperative-${cooperativeId}.csv`, toCsv(PAYOUT_COLUMNS, cooperativePayoutRows(audit)));
    return undefined;
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
    handler: ({ params, res }) => saleAudit(params.id, res, true),
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
    async handler({ params, res }) {
      const pack = await buildSalePack(deps(), params.id);
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
    handler: ({ params, req, res }) => saleAudit(params.id, res, wantsCsv(req)),
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
    query: periodQuery,
    responses: coopResponses,
    handler: ({ params, query, res }) => cooperativeAudit(params.id, query, res, true),
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
    query: periodQuery,
    responses: coopResponses,
    handler: ({ params, query, req, res }) => cooperativeAudit(params.id, query, res, wantsCsv(req)),
  });
}
