/**
 * Sales in escrow, claims and withdrawals, over HTTP: parse, call the sale service, answer. The logic
 * (who may, what goes on-chain, the buyer's own payment) is in server/services/sales.ts.
 */
import type { Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import {
  buyerStepInput,
  claimInput,
  listSalesInput,
  offerSaleInput,
  resolveInput,
  shipInput,
  withdrawInput,
} from "../../services/sales";
import type { OpenApiBuilder } from "../openapi";
import { answerWriteOf } from "../operations";
import { id, noBody } from "../validate";

const saleParams = z.object({ id });

type SaleService = Services["sales"];

export function saleRoutes(router: Router, api: OpenApiBuilder, services: Services): void {
  offerRoutes(router, api, services.sales);
  stepRoutes(router, api, services.sales);
  claimRoutes(router, api, services.sales);
}

/** Offer, list, read and pay for a sale. */
function offerRoutes(router: Router, api: OpenApiBuilder, sales: SaleService): void {
  api.defineRoute(router, {
    method: "post",
    path: "/sales",
    summary: "Offer a quantity of a batch for a price in ETH or an allowed stablecoin (cooperative admin)",
    tags: ["sales"],
    auth: ["coop_admin"],
    body: offerSaleInput,
    responses: {
      201: "offered",
      403: "not this cooperative's admin",
      404: "unknown batch",
      422: "rejected by the contract",
    },
    handler: ({ body, req, res }) => answerWriteOf(req, res, (o) => sales.offer(req.user, body, o)),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/sales",
    summary: "List sales (public)",
    tags: ["sales"],
    auth: [],
    query: listSalesInput,
    responses: { 200: "a page of sales" },
    handler: ({ query }) => sales.list(query),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/sales/:id",
    summary: "One sale with the transactions of each step and its split (public)",
    tags: ["sales"],
    auth: [],
    params: saleParams,
    responses: { 200: "the sale", 404: "unknown sale" },
    handler: ({ params }) => sales.get(params.id),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/fund",
    summary:
      "Pay the price into escrow from the buyer's own account (the buyer pays its gas): one operation whose steps are an ERC-20 approval when needed, then the payment; 201 once mined, 202 with the operation's URL with ?wait=false or when the chain is slow",
    tags: ["sales"],
    auth: ["buyer"],
    params: saleParams,
    body: noBody,
    responses: {
      201: "funded (the operation, its transactions and the decoded events)",
      202: "accepted, not mined yet: follow Location (/api/v1/operations/{id})",
      403: "not a buyer",
      404: "unknown sale",
      422: "rejected by the contract (the decoded error's name as code), or the account cannot pay",
    },
    handler: ({ params, req, res }) => answerWriteOf(req, res, (o) => sales.fund(req.user, params.id, o)),
  });
}

/** The steps after payment: shipping, the buyer's confirmation or dispute, a ruling, a cancellation, a release. */
function stepRoutes(router: Router, api: OpenApiBuilder, sales: SaleService): void {
  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/ship",
    summary: "Mark the goods shipped (cooperative admin)",
    tags: ["sales"],
    auth: ["coop_admin"],
    params: saleParams,
    body: shipInput,
    responses: { 201: "shipped", 403: "not the seller", 404: "unknown sale", 422: "rejected by the contract" },
    handler: ({ params, body, req, res }) => answerWriteOf(req, res, (o) => sales.ship(req.user, params.id, body, o)),
  });

  for (const [action, summary] of [
    ["confirm", "Confirm delivery, which releases the payment (buyer)"],
    ["dispute", "Dispute a shipped sale within the window (buyer)"],
  ] as const) {
    api.defineRoute(router, {
      method: "post",
      path: `/sales/:id/${action}`,
      summary,
      tags: ["sales"],
      auth: ["buyer"],
      params: saleParams,
      body: buyerStepInput,
      responses: { 201: "done", 403: "not the buyer", 404: "unknown sale", 422: "rejected by the contract" },
      handler: ({ params, body, req, res }) =>
        answerWriteOf(req, res, (o) => sales[action](req.user, params.id, body, o)),
    });
  }

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/resolve",
    summary: "Settle a dispute: refundBps of the price back to the buyer, the rest released (arbiter)",
    tags: ["sales"],
    auth: ["arbiter"],
    params: saleParams,
    body: resolveInput,
    responses: { 201: "resolved", 403: "not an arbiter", 404: "unknown sale", 422: "rejected by the contract" },
    handler: ({ params, body, req, res }) =>
      answerWriteOf(req, res, (o) => sales.resolve(req.user, params.id, body, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/cancel",
    summary: "Cancel a sale not shipped (the seller anytime; the buyer after the shipping deadline)",
    tags: ["sales"],
    auth: ["coop_admin", "buyer"],
    params: saleParams,
    body: noBody,
    responses: { 201: "cancelled", 403: "forbidden", 404: "unknown sale", 422: "rejected by the contract" },
    handler: ({ params, req, res }) => answerWriteOf(req, res, (o) => sales.cancel(req.user, params.id, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/release",
    summary: "Release a shipped sale whose dispute window has passed (anyone with an account)",
    tags: ["sales"],
    auth: ["platform_admin", "registrar", "coop_admin", "member", "buyer", "certifier", "arbiter"],
    params: saleParams,
    body: noBody,
    responses: { 201: "released", 401: "no token", 404: "unknown sale", 422: "rejected by the contract" },
    handler: ({ params, req, res }) => answerWriteOf(req, res, (o) => sales.release(req.user, params.id, o)),
  });
}

/** Members' shares (balances, claims) and buyers' refunds (withdrawals). */
function claimRoutes(router: Router, api: OpenApiBuilder, sales: SaleService): void {
  api.defineRoute(router, {
    method: "get",
    path: "/me/balances",
    summary: "What the caller has earned, claimed and can still claim, per batch and token",
    tags: ["claims"],
    auth: ["member", "coop_admin", "buyer"],
    responses: { 200: "balances", 401: "no token" },
    handler: ({ req }) => sales.balances(req.user),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/claims",
    summary: "Pay a member its share of a batch's sales (the member itself, or its cooperative's admin for it)",
    tags: ["claims"],
    auth: ["member", "coop_admin"],
    body: claimInput,
    responses: { 201: "paid", 403: "forbidden", 404: "unknown batch or member", 422: "nothing due or rejected" },
    handler: ({ body, req, res }) => answerWriteOf(req, res, (o) => sales.claim(req.user, body, o)),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/withdrawals",
    summary: "Withdraw refunds credited to the caller (buyers) in a token",
    tags: ["claims"],
    auth: ["buyer", "platform_admin"],
    body: withdrawInput,
    responses: { 201: "paid", 422: "nothing due" },
    handler: ({ body, req, res }) => answerWriteOf(req, res, (o) => sales.withdraw(req.user, body, o)),
  });
}
