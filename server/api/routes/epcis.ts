/**
 * GET /api/v1/batches/:id/epcis: the batch's history as an EPCIS 2.0 document (JSON-LD), built by the
 * batch service (server/services/batches.ts, with server/epcis).
 */
import type { Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import type { OpenApiBuilder } from "../openapi";
import { bytes32 } from "../validate";

export function epcisRoutes(router: Router, api: OpenApiBuilder, services: Services): void {
  const { batches } = services;

  api.defineRoute(router, {
    method: "get",
    path: "/batches/:id/epcis",
    summary: "The batch's history as an EPCIS 2.0 document (application/ld+json, public)",
    tags: ["batches"],
    auth: [],
    params: z.object({ id: bytes32 }),
    responses: { 200: "an EPCISDocument", 404: "unknown batch" },
    handler({ params, res }) {
      res.type("application/ld+json").send(JSON.stringify(batches.epcis(params.id)));
    },
  });
}
