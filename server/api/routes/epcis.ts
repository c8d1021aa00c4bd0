/**
 * GET /api/v1/batches/:id/epcis: the batch's history as an EPCIS 2.0 document (JSON-LD).
 */
import type { Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../context";
import type { OpenApiBuilder } from "../openapi";
import { ApiError } from "../problem";
import { bytes32 } from "../validate";
import { buildEpcisDocument } from "../../epcis";

export function epcisRoutes(router: Router, api: OpenApiBuilder, ctx: GatewayContext): void {
  api.defineRoute(router, {
    method: "get",
    path: "/batches/:id/epcis",
    summary: "The batch's history as an EPCIS 2.0 document (application/ld+json, public)",
    tags: ["batches"],
    auth: [],
    params: z.object({ id: bytes32 }),
    responses: { 200: "an EPCISDocument", 404: "unknown batch" },
    handler({ params, res }) {
      const batch = ctx.queries.getBatch(params.id.toLowerCase());
      if (!batch) throw new ApiError(404, "batch_not_found", `no batch ${params.id}`);
      const doc = buildEpcisDocument(batch, {
        publicUrl: ctx.publicUrl,
        chainId: ctx.chainId,
        lookupBatch: (id) => ctx.queries.getBatch(id),
      });
      res.type("application/ld+json").send(JSON.stringify(doc));
    },
  });
}
