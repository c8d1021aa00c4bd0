/**
 * Cooperatives and their members, over HTTP: parse, call the cooperative service, answer. The logic
 * (who may, what goes on-chain, the new accounts) is in server/services/cooperatives.ts.
 */
import type { Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import { addMemberInput, registerCooperativeInput } from "../../services/cooperatives";
import type { OpenApiBuilder } from "../openapi";
import { answerWrite, waitPreference } from "../operations";
import { id, paging } from "../validate";

const idParams = z.object({ id });

export function cooperativeRoutes(router: Router, api: OpenApiBuilder, services: Services): void {
  const { cooperatives } = services;

  api.defineRoute(router, {
    method: "post",
    path: "/cooperatives",
    summary: "Register a cooperative and create its admin (the admin's token is returned once)",
    tags: ["cooperatives"],
    auth: ["registrar"],
    body: registerCooperativeInput,
    responses: {
      201: "registered",
      202: "accepted, not yet mined",
      400: "invalid field",
      403: "not a registrar",
      422: "rejected by the contract",
    },
    async handler({ body, req, res }) {
      const { outcome, cooperativeId, admin } = await cooperatives.register(req.user, body, waitPreference(req));
      res.set("Cache-Control", "no-store"); // the admin's token, shown once
      return { ...answerWrite(res, outcome), cooperativeId, admin };
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/cooperatives",
    summary: "List cooperatives (public)",
    tags: ["cooperatives"],
    auth: [],
    query: paging,
    responses: { 200: "a page of cooperatives" },
    handler: ({ query }) => cooperatives.list(query),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/cooperatives/:id",
    summary: "One cooperative (public)",
    tags: ["cooperatives"],
    auth: [],
    params: idParams,
    responses: { 200: "the cooperative", 404: "unknown cooperative" },
    handler: ({ params }) => cooperatives.get(params.id),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/cooperatives/:id/members",
    summary: "Add a member (a new user whose key the gateway keeps; the token is returned once)",
    tags: ["members"],
    auth: ["coop_admin"],
    params: idParams,
    body: addMemberInput,
    responses: {
      201: "added",
      400: "invalid field",
      403: "not this cooperative's admin",
      422: "rejected by the contract",
    },
    async handler({ params, body, req, res }) {
      const { outcome, member } = await cooperatives.addMember(req.user, params.id, body, waitPreference(req));
      res.set("Cache-Control", "no-store"); // the member's token, shown once
      return { ...answerWrite(res, outcome), member };
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/cooperatives/:id/members",
    summary: "Members of a cooperative (its admin, registrars, auditors)",
    tags: ["members"],
    auth: ["coop_admin", "registrar", "auditor"],
    params: idParams,
    responses: { 200: "members", 403: "forbidden" },
    handler: ({ params, req }) => cooperatives.listMembers(req.user, params.id),
  });
}
