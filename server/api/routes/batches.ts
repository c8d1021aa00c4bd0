/**
 * Batches: registration with contributors, lifecycle events, certifications, splits and merges.
 * Contributors may be named by user id or address; the gateway orders them as the contract requires.
 */
import type { Router } from "express";
import { ZeroHash } from "ethers";
import { z } from "zod";
import type { GatewayContext } from "../context";
import type { OpenApiBuilder } from "../openapi";
import type { Operations } from "../operations";
import { eventArg } from "../operations";
import { requireCoopActor, requireUser } from "../auth";
import { ApiError } from "../problem";
import { address, bytes32, bytesText, gtin, id, paging, uint } from "../validate";
import { encodeCall } from "../../chain/calldata";
import { BatchRegistry__factory } from "../../../typechain-types";
import { mergeContributors, sortContributors } from "../../../domain/contributors";

const batchIdParams = z.object({ id: bytes32 });

const contributor = z
  .object({ memberId: z.string().uuid().optional(), address: address.optional(), weight: uint(64, 1n) })
  .strict()
  .refine((c) => (c.memberId === undefined) !== (c.address === undefined), "give exactly one of memberId or address");

const batchInfoFields = {
  productCode: bytesText(128),
  gtin: gtin.optional(),
  lotCode: bytesText(20).refine(
    (s) => /^[\x21-\x22\x25-\x2F\x30-\x39\x3A-\x3F\x41-\x5A\x5F\x61-\x7A]+$/.test(s),
    "must use GS1 AI (10) characters",
  ),
  quantity: uint(64, 1n),
  unit: bytesText(16),
  origin: bytesText(128, 0).default(""),
  productionDate: z.iso
    .datetime({ offset: true })
    .or(z.iso.date())
    .transform((d) => BigInt(Math.floor(Date.parse(d) / 1000))),
  metadataHash: bytes32.default(ZeroHash),
};

function toInfo(b: {
  productCode: string;
  gtin?: bigint;
  lotCode: string;
  quantity: bigint;
  unit: string;
  origin: string;
  productionDate: bigint;
  metadataHash: string;
}) {
  return {
    productCode: b.productCode,
    gtin: b.gtin ?? 0n,
    lotCode: b.lotCode,
    quantity: b.quantity,
    unit: b.unit,
    origin: b.origin,
    productionDate: b.productionDate,
    metadataHash: b.metadataHash,
  };
}

export function batchRoutes(router: Router, api: OpenApiBuilder, ctx: GatewayContext, ops: Operations): void {
  const { batches } = ctx.contracts;
  const batchesAddress = ctx.deployment.contracts.BatchRegistry.address;

  function resolveContributors(list: { memberId?: string; address?: string; weight: bigint }[]) {
    return list.map((c, i) => {
      if (c.address !== undefined) return { account: c.address, weight: c.weight };
      const user = ctx.users.get(c.memberId!);
      if (!user || user.address === null) {
        throw new ApiError(400, "invalid_field", `contributors.${i}.memberId: unknown member`, {
          errors: [{ field: `contributors.${i}.memberId`, message: "unknown member" }],
        });
      }
      return { account: user.address, weight: c.weight };
    });
  }

  function existingBatch(batchId: string) {
    const batch = ctx.queries.getBatch(batchId);
    if (!batch) throw new ApiError(404, "batch_not_found", `no batch ${batchId}`);
    return batch;
  }

  api.defineRoute(router, {
    method: "post",
    path: "/batches",
    summary: "Register a batch with the members who contributed and their weights (quantities delivered)",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    body: z
      .object({ cooperativeId: id, ...batchInfoFields, contributors: z.array(contributor).min(1).max(1000) })
      .strict(),
    responses: {
      201: "registered",
      202: "accepted",
      400: "invalid field",
      403: "not of this cooperative",
      422: "rejected by the contract",
    },
    async handler({ body, req, res }) {
      const user = await requireCoopActor(ctx, req.user, body.cooperativeId);
      // In the contract's order; the contract computes the commitment itself.
      const contributors = sortContributors(resolveContributors(body.contributors));
      const data = encodeCall(BatchRegistry__factory.abi, "registerBatch", [
        body.cooperativeId,
        toInfo(body),
        contributors,
      ]);
      const outcome = await ops.write(req, res, user, { to: batchesAddress, data });
      return {
        ...outcome,
        batchId:
          eventArg(outcome, "BatchRegistered", "batchId") ??
          (await batches.batchIdOf(body.cooperativeId, body.lotCode)),
      };
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/batches",
    summary: "List batches (public)",
    tags: ["batches"],
    auth: [],
    query: paging.extend({ cooperativeId: id.optional(), productCode: z.string().max(128).optional() }),
    responses: { 200: "a page of batches" },
    handler: ({ query }) => ctx.queries.listBatches(query),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/batches/:id",
    summary: "One batch with its contributors, history, certifications, lineage and sales (public)",
    tags: ["batches"],
    auth: [],
    params: batchIdParams,
    responses: { 200: "the batch", 400: "malformed id", 404: "unknown batch" },
    handler: ({ params }) => existingBatch(params.id),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/events",
    summary: "Record a lifecycle step (GS1 CBV business step or a CoopTrace vocabulary URI)",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    params: batchIdParams,
    body: z
      .object({
        bizStep: bytesText(256),
        location: bytesText(128, 0).default(""),
        eventTime: z.iso.datetime({ offset: true }).transform((d) => BigInt(Math.floor(Date.parse(d) / 1000))),
        documentHash: bytes32.default(ZeroHash),
      })
      .strict(),
    responses: {
      201: "recorded",
      403: "not of this cooperative",
      404: "unknown batch",
      422: "rejected by the contract",
    },
    async handler({ params, body, req, res }) {
      const batch = existingBatch(params.id);
      const user = await requireCoopActor(ctx, req.user, Number(batch.cooperativeId));
      const data = encodeCall(BatchRegistry__factory.abi, "recordEvent", [
        params.id,
        body.bizStep,
        body.location,
        body.eventTime,
        body.documentHash,
      ]);
      return ops.write(req, res, user, { to: batchesAddress, data });
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/certifications",
    summary: "Certify a batch under a scheme (certifiers)",
    tags: ["certifications"],
    auth: ["certifier"],
    params: batchIdParams,
    body: z
      .object({
        scheme: bytesText(128),
        certificateHash: bytes32.default(ZeroHash),
        validUntil: z.iso
          .datetime({ offset: true })
          .or(z.iso.date())
          .transform((d) => BigInt(Math.floor(Date.parse(d) / 1000))),
      })
      .strict(),
    responses: { 201: "certified", 403: "not a certifier", 404: "unknown batch", 422: "rejected by the contract" },
    async handler({ params, body, req, res }) {
      const user = requireUser(req.user, "certifier");
      existingBatch(params.id);
      const data = encodeCall(BatchRegistry__factory.abi, "certify", [
        params.id,
        body.scheme,
        body.certificateHash,
        body.validUntil,
      ]);
      const outcome = await ops.write(req, res, user, { to: batchesAddress, data });
      return { ...outcome, certificationId: eventArg(outcome, "BatchCertified", "certificationId") ?? null };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/certifications/:id/revoke",
    summary: "Revoke a certification (the certifier who issued it)",
    tags: ["certifications"],
    auth: ["certifier"],
    params: z.object({ id }),
    body: z.object({ reasonHash: bytes32.default(ZeroHash) }).strict(),
    responses: { 201: "revoked", 403: "not a certifier", 422: "rejected by the contract" },
    async handler({ params, body, req, res }) {
      const user = requireUser(req.user, "certifier");
      const data = encodeCall(BatchRegistry__factory.abi, "revokeCertification", [params.id, body.reasonHash]);
      return ops.write(req, res, user, { to: batchesAddress, data });
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/split",
    summary: "Split quantity of a batch into child lots that share its contributors",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    params: batchIdParams,
    body: z
      .object({
        children: z
          .array(
            z
              .object({
                lotCode: batchInfoFields.lotCode,
                quantity: uint(64, 1n),
                metadataHash: bytes32.default(ZeroHash),
              })
              .strict(),
          )
          .min(1)
          .max(50),
      })
      .strict(),
    responses: { 201: "split", 403: "not of this cooperative", 404: "unknown batch", 422: "rejected by the contract" },
    async handler({ params, body, req, res }) {
      const batch = existingBatch(params.id);
      const user = await requireCoopActor(ctx, req.user, Number(batch.cooperativeId));
      const data = encodeCall(BatchRegistry__factory.abi, "splitBatch", [params.id, body.children]);
      const outcome = await ops.write(req, res, user, { to: batchesAddress, data });
      return { ...outcome, childIds: eventArg(outcome, "BatchSplit", "childIds") ?? [] };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/merge",
    summary: "Merge or transform quantities of batches into a new batch (contributors computed by the merge rule)",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    body: z
      .object({
        cooperativeId: id,
        inputs: z
          .array(z.object({ batchId: bytes32, quantity: uint(64, 1n) }).strict())
          .min(1)
          .max(20),
        ...batchInfoFields,
      })
      .strict(),
    responses: { 201: "merged", 403: "not of this cooperative", 404: "unknown batch", 422: "rejected by the contract" },
    async handler({ body, req, res }) {
      const user = await requireCoopActor(ctx, req.user, body.cooperativeId);
      const parents = body.inputs.map((input) => ({ input, batch: existingBatch(input.batchId) }));
      const contributors = mergeContributors(
        parents.map(({ input, batch }) => ({
          contributors: batch.contributors.map((c) => ({ account: c.account, weight: BigInt(c.weight) })),
          totalWeight: BigInt(batch.totalWeight),
          drawn: input.quantity,
        })),
      );
      if (contributors.length === 0)
        throw new ApiError(
          422,
          "merge_without_contributors",
          "the quantities drawn are too small to weight any contributor",
        );
      const data = encodeCall(BatchRegistry__factory.abi, "mergeBatches", [
        body.cooperativeId,
        body.inputs.map((i) => ({ batchId: i.batchId, quantity: i.quantity })),
        toInfo(body),
        contributors,
      ]);
      const outcome = await ops.write(req, res, user, { to: batchesAddress, data });
      return { ...outcome, batchId: eventArg(outcome, "BatchesMerged", "batchId") ?? null };
    },
  });
}
