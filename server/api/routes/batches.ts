/**
 * Batches over HTTP: parse, call the batch service, answer. The logic (who may, contributors by
 * member id or address in the contract's order, the merge rule, the not_issuer refusal) is in
 * server/services/batches.ts.
 */
import type { Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import {
  certifyInput,
  listBatchesInput,
  mergeBatchesInput,
  recordEventInput,
  registerBatchInput,
  revokeCertificationInput,
  splitBatchInput,
} from "../../services/batches";
import type { OpenApiBuilder } from "../openapi";
import { answerWriteOf } from "../operations";
import { bytes32, id } from "../validate";

const batchIdParams = z.object({ id: bytes32 });

export function batchRoutes(router: Router, api: OpenApiBuilder, services: Services): void {
  const { batches } = services;

  api.defineRoute(router, {
    method: "post",
    path: "/batches",
    summary: "Register a batch with the members who contributed and their weights (quantities delivered)",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    body: registerBatchInput,
    responses: {
      201: "registered",
      202: "accepted",
      400: "invalid field",
      403: "not of this cooperative",
      422: "rejected by the contract",
    },
    handler: ({ body, req, res }) => answerWriteOf(req, res, (o) => batches.register(req.user, body, o)),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/batches",
    summary: "List batches (public)",
    tags: ["batches"],
    auth: [],
    query: listBatchesInput,
    responses: { 200: "a page of batches" },
    handler: ({ query }) => batches.list(query),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/batches/:id",
    summary: "One batch with its contributors, history, certifications, lineage and sales (public)",
    tags: ["batches"],
    auth: [],
    params: batchIdParams,
    responses: { 200: "the batch", 400: "malformed id", 404: "unknown batch" },
    handler: ({ params }) => batches.get(params.id),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/events",
    summary: "Record a lifecycle step (GS1 CBV business step or a CoopTrace vocabulary URI)",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    params: batchIdParams,
    body: recordEventInput,
    responses: {
      201: "recorded",
      403: "not of this cooperative",
      404: "unknown batch",
      422: "rejected by the contract",
    },
    handler: ({ params, body, req, res }) =>
      answerWriteOf(req, res, (o) => batches.recordEvent(req.user, params.id, body, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/certifications",
    summary: "Certify a batch under a scheme (certifiers)",
    tags: ["certifications"],
    auth: ["certifier"],
    params: batchIdParams,
    body: certifyInput,
    responses: { 201: "certified", 403: "not a certifier", 404: "unknown batch", 422: "rejected by the contract" },
    handler: ({ params, body, req, res }) =>
      answerWriteOf(req, res, (o) => batches.certify(req.user, params.id, body, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/certifications/:id/revoke",
    summary: "Revoke a certification (the certifier who issued it)",
    tags: ["certifications"],
    auth: ["certifier"],
    params: z.object({ id }),
    body: revokeCertificationInput,
    responses: {
      201: "revoked",
      403: "not a certifier, or not the certifier who issued it (not_issuer)",
      422: "rejected by the contract",
    },
    handler: ({ params, body, req, res }) =>
      answerWriteOf(req, res, (o) => batches.revokeCertification(req.user, params.id, body, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/split",
    summary: "Split quantity of a batch into child lots that share its contributors",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    params: batchIdParams,
    body: splitBatchInput,
    responses: { 201: "split", 403: "not of this cooperative", 404: "unknown batch", 422: "rejected by the contract" },
    handler: ({ params, body, req, res }) =>
      answerWriteOf(req, res, (o) => batches.split(req.user, params.id, body, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/merge",
    summary: "Merge or transform quantities of batches into a new batch (contributors computed by the merge rule)",
    tags: ["batches"],
    auth: ["coop_admin", "member"],
    body: mergeBatchesInput,
    responses: { 201: "merged", 403: "not of this cooperative", 404: "unknown batch", 422: "rejected by the contract" },
    handler: ({ body, req, res }) => answerWriteOf(req, res, (o) => batches.merge(req.user, body, o)),
  });
}
