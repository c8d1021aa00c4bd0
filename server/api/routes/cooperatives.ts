/**
 * Cooperatives and their members. The registrar registers a cooperative together with its admin
 * (a new user whose key the gateway keeps); the admin adds members the same way.
 */
import type { Router } from "express";
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import type { GatewayContext } from "../context";
import type { OpenApiBuilder } from "../openapi";
import type { Operations } from "../operations";
import { eventArg } from "../operations";
import { requireCoopAdmin, requireUser } from "../auth";
import { ApiError } from "../problem";
import { memberCardSvg } from "../../custody/cards";
import { bytesText, id, paging, text } from "../validate";
import { encodeCall } from "../../chain/calldata";
import { CooperativeRegistry__factory } from "../../../typechain-types";

const idParams = z.object({ id });

/** What goes on-chain for a member: a hash of the cooperative's own reference, never the reference itself. */
export function memberReferenceHash(cooperativeId: number, reference: string): string {
  return keccak256(toUtf8Bytes(`cooptrace:member:${cooperativeId}:${reference}`));
}

export function cooperativeRoutes(router: Router, api: OpenApiBuilder, ctx: GatewayContext, ops: Operations): void {
  const registryAddress = ctx.deployment.contracts.CooperativeRegistry.address;

  api.defineRoute(router, {
    method: "post",
    path: "/cooperatives",
    summary: "Register a cooperative and create its admin (the admin's token is returned once)",
    tags: ["cooperatives"],
    auth: ["registrar"],
    body: z
      .object({
        name: bytesText(128),
        region: bytesText(128),
        registrationNumber: bytesText(128),
        reserveBps: z.number().int().min(0).max(5_000),
        womenLed: z.boolean().default(false),
        admin: z.object({ displayName: text(200) }).strict(),
      })
      .strict(),
    responses: {
      201: "registered",
      202: "accepted, not yet mined",
      400: "invalid field",
      403: "not a registrar",
      422: "rejected by the contract",
    },
    async handler({ body, req, res }) {
      const registrar = requireUser(req.user, "registrar");
      // Simulate before creating anyone: a duplicate registration number must leave no orphan admin.
      const data = (adminAddress: string) =>
        encodeCall(CooperativeRegistry__factory.abi, "registerCooperative", [
          body.name,
          body.region,
          body.registrationNumber,
          adminAddress,
          body.reserveBps,
          body.womenLed,
        ]);
      const { user: admin, token } = ctx.users.create({
        role: "coop_admin",
        displayName: body.admin.displayName,
        createdBy: registrar.id,
      });
      try {
        const outcome = await ops.write(req, res, registrar, { to: registryAddress, data: data(admin.address!) });
        const cooperativeId = Number(eventArg(outcome, "CooperativeRegistered", "cooperativeId") ?? 0) || null;
        res.set("Cache-Control", "no-store"); // the admin's token, shown once
        return { ...outcome, cooperativeId, admin: { userId: admin.id, address: admin.address, token } };
      } catch (err) {
        ctx.users.remove(admin.id);
        throw err;
      }
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
    handler: ({ query }) => ctx.queries.listCooperatives(query),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/cooperatives/:id",
    summary: "One cooperative (public)",
    tags: ["cooperatives"],
    auth: [],
    params: idParams,
    responses: { 200: "the cooperative", 404: "unknown cooperative" },
    handler({ params }) {
      const coop = ctx.queries.getCooperative(params.id);
      if (!coop) throw new ApiError(404, "cooperative_not_found", `no cooperative ${params.id}`);
      return coop;
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/cooperatives/:id/members",
    summary: "Add a member (a new user whose key the gateway keeps; the token is returned once)",
    tags: ["members"],
    auth: ["coop_admin"],
    params: idParams,
    body: z.object({ displayName: text(200), reference: text(100) }).strict(),
    responses: {
      201: "added",
      400: "invalid field",
      403: "not this cooperative's admin",
      422: "rejected by the contract",
    },
    async handler({ params, body, req, res }) {
      const admin = await requireCoopAdmin(ctx, req.user, params.id);
      const { user: member, token } = ctx.users.create({
        role: "member",
        displayName: body.displayName,
        cooperativeId: params.id,
        createdBy: admin.id,
      });
      try {
        const data = encodeCall(CooperativeRegistry__factory.abi, "addMember", [
          params.id,
          member.address!,
          memberReferenceHash(params.id, body.reference),
        ]);
        const outcome = await ops.write(req, res, admin, { to: registryAddress, data });
        res.set("Cache-Control", "no-store"); // the member's token, shown once
        // A printable card (SVG) whose QR code carries the token, for members without a smartphone.
        const card = await memberCardSvg({
          displayName: member.displayName,
          cooperativeName: ctx.queries.getCooperative(params.id)?.name ?? `#${params.id}`,
          token,
          gatewayUrl: ctx.publicUrl,
        });
        return { ...outcome, member: { userId: member.id, address: member.address, token, card } };
      } catch (err) {
        ctx.users.remove(member.id);
        throw err;
      }
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
    async handler({ params, req }) {
      const user = requireUser(req.user, "coop_admin", "registrar", "auditor");
      if (user.role === "coop_admin") await requireCoopAdmin(ctx, user, params.id);
      const names = new Map(ctx.users.list({ role: "member" }).map((u) => [u.address?.toLowerCase(), u]));
      return ctx.queries.listMembers(params.id).map((m) => {
        const u = names.get(m.account.toLowerCase());
        return { ...m, userId: u?.id ?? null, displayName: u?.displayName ?? null };
      });
    },
  });
}
