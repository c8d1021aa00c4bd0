/**
 * GET /api/v1/operations/:id: the progress of a write answered 202 (its owner or the platform admin).
 */
import type { Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import type { OpenApiBuilder } from "../openapi";

export function operationRoutes(router: Router, api: OpenApiBuilder, services: Pick<Services, "operations">): void {
  api.defineRoute(router, {
    method: "get",
    path: "/operations/:id",
    summary: "Status of a write (its owner or the platform admin)",
    tags: ["operations"],
    auth: ["any"],
    params: z.object({ id: z.string().uuid() }),
    responses: { 200: "the status", 401: "no token", 404: "unknown operation" },
    handler: ({ params, req }) => services.operations.status(req.user, params.id),
  });
}
