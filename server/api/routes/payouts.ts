/**
 * Money in dirhams over HTTP (issue 13): payout accounts and routes, payouts recorded by the
 * cooperative and answered by the member, reference rates, closing a batch's accounts, the
 * reconciliation (JSON or CSV). Parse with the service's schemas, call server/services/payouts.ts,
 * answer; amounts stay exact integers as strings.
 */
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import {
  contestPayoutInput,
  payoutAccountInput,
  payoutListInput,
  payoutRouteInput,
  recordPayoutsInput,
  referenceRateInput,
} from "../../services/payouts";
import type { OpenApiBuilder } from "../openapi";
import { answerWrite, waitPreference } from "../operations";
import { bytes32, id, noBody } from "../validate";
import { wantsCsv } from "./audit";
import { sendCsv } from "../download";

const coopParams = z.object({ id });
const payoutParams = z.object({ id: bytes32 });
const WRITE = { 201: "mined", 202: "accepted, not yet mined", 400: "invalid field", 401: "no token" };

type PayoutService = Services["payouts"];

export function payoutRoutes(router: Router, api: OpenApiBuilder, services: Pick<Services, "payouts">): void {
  managerRoutes(router, api, services.payouts);
  memberRoutes(router, api, services.payouts);
  readRoutes(router, api, services.payouts);
}

/** The cooperative's manager and the platform: payout account, payouts, closing a batch, reference rates. */
function managerRoutes(router: Router, api: OpenApiBuilder, payouts: PayoutService): void {
  api.defineRoute(router, {
    method: "post",
    path: "/cooperatives/:id/payout-account",
    summary: "Name the account that receives the shares of members paid through the cooperative (its admin)",
    tags: ["payouts"],
    auth: ["coop_admin"],
    params: coopParams,
    body: payoutAccountInput,
    responses: {
      ...WRITE,
      403: "not this cooperative's admin",
      404: "unknown cooperative",
      422: "rejected by the contract",
    },
    async handler({ params, body, req, res }) {
      const { outcome } = await payouts.setPayoutAccount(req.user, params.id, body, waitPreference(req));
      return answerWrite(res, outcome);
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/cooperatives/:id/payouts",
    summary:
      'Record payouts made in dirhams (its admin): member, amount ("1250.00"), settlement token, purpose, method, ' +
      "payment reference (only its hash goes on-chain); a rate for another currency",
    tags: ["payouts"],
    auth: ["coop_admin"],
    params: coopParams,
    body: recordPayoutsInput,
    responses: {
      ...WRITE,
      403: "not this cooperative's admin",
      404: "unknown cooperative",
      409: "payout_duplicate: the same member and reference are already recorded",
      422:
        "payout_exceeds_owed: a share or instalment above what the member is still owed (record it as an " +
        "advance if it is one); or rejected by the contract",
    },
    async handler({ params, body, req, res }) {
      const { outcome, payoutIds } = await payouts.recordPayouts(req.user, params.id, body, waitPreference(req));
      return { ...answerWrite(res, outcome), payoutIds };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/batches/:id/close",
    summary:
      "Close a batch's accounts (its cooperative's admin): no new sale; the rounding leftover of each token goes to the reserve",
    tags: ["payouts"],
    auth: ["coop_admin"],
    params: payoutParams,
    body: noBody,
    responses: {
      ...WRITE,
      403: "not the cooperative's admin",
      404: "unknown batch",
      409: "batch_closed",
      422: "rejected by the contract (a sale not settled)",
    },
    async handler({ params, req, res }) {
      const { outcome, saleIds, roundedOff } = await payouts.closeBatch(req.user, params.id, waitPreference(req));
      return { ...answerWrite(res, outcome), saleIds, roundedOff };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/reference-rates",
    summary: "Record a reference rate: dirhams per unit of a currency, its date and source (platform admin)",
    tags: ["payouts"],
    auth: ["platform_admin"],
    body: referenceRateInput,
    responses: {
      201: "mined",
      400: "invalid field",
      401: "no token",
      403: "not the platform admin",
      503: "no platform key",
    },
    async handler({ body, req, res }) {
      const result = await payouts.setReferenceRate(req.user, body);
      res.status(201);
      return result;
    },
  });
}

/** The member herself: her route, her answers, her money. */
function memberRoutes(router: Router, api: OpenApiBuilder, payouts: PayoutService): void {
  api.defineRoute(router, {
    method: "post",
    path: "/me/payout-route",
    summary: "Choose to be paid in dirhams through your cooperative, or to be paid yourself again (a member)",
    tags: ["payouts"],
    auth: ["member"],
    body: payoutRouteInput,
    responses: {
      ...WRITE,
      403: "not a member of the cooperative",
      404: "unknown cooperative",
      409: "no_payout_account",
      422: "rejected by the contract",
    },
    async handler({ body, req, res }) {
      const { outcome, cooperativeId } = await payouts.choosePaidThroughCooperative(
        req.user,
        body,
        waitPreference(req),
      );
      return { ...answerWrite(res, outcome), cooperativeId };
    },
  });

  const answer = {
    403: "not_your_payout",
    404: "payout_not_found",
    409: "payout_already_confirmed / payout_already_contested",
  };
  api.defineRoute(router, {
    method: "post",
    path: "/payouts/:id/confirm",
    summary: "Confirm you received a payout (the member it names; final)",
    tags: ["payouts"],
    auth: ["member", "coop_admin"],
    params: payoutParams,
    body: noBody,
    responses: { ...WRITE, ...answer },
    async handler({ params, req, res }) {
      return answerWrite(res, (await payouts.confirm(req.user, params.id, waitPreference(req))).outcome);
    },
  });
  api.defineRoute(router, {
    method: "post",
    path: "/payouts/:id/contest",
    summary: "Say you did not receive a payout as recorded, with an optional reason (hashed) (the member it names)",
    tags: ["payouts"],
    auth: ["member", "coop_admin"],
    params: payoutParams,
    body: contestPayoutInput,
    responses: { ...WRITE, ...answer },
    async handler({ params, body, req, res }) {
      return answerWrite(res, (await payouts.contest(req.user, params.id, body, waitPreference(req))).outcome);
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/me/money",
    summary:
      "Your account per cooperative and token (entitled, paid, confirmed, outstanding), your payouts, your route",
    tags: ["payouts"],
    auth: ["member", "coop_admin"],
    responses: { 200: "your money", 401: "no token", 403: "not a member" },
    handler({ req, res }) {
      res.set("Cache-Control", "no-store");
      return payouts.memberMoney(req.user);
    },
  });
}

/** Payouts of a cooperative, and its reconciliation for the manager and the auditors. */
function readRoutes(router: Router, api: OpenApiBuilder, payouts: PayoutService): void {
  api.defineRoute(router, {
    method: "get",
    path: "/cooperatives/:id/payouts",
    summary: "A cooperative's payouts with their status (its admin, auditors; a member sees hers)",
    tags: ["payouts"],
    auth: ["coop_admin", "auditor", "platform_admin", "member"],
    params: coopParams,
    query: payoutListInput,
    responses: { 200: "the payouts", 401: "no token", 403: "not allowed", 404: "unknown cooperative" },
    handler({ params, query, req, res }) {
      res.set("Cache-Control", "no-store");
      return { items: payouts.payoutsOf(req.user, params.id, query.member) };
    },
  });

  function reconciliation(cooperativeId: number, req: Request, res: Response, csv: boolean) {
    res.set("Cache-Control", "no-store");
    if (csv) return sendCsv(res, payouts.reconciliationCsv(req.user, cooperativeId));
    return payouts.reconciliation(req.user, cooperativeId);
  }
  const responses = {
    200: "the reconciliation (JSON, or CSV with Accept: text/csv)",
    401: "no token",
    403: "not an auditor or this cooperative's admin",
    404: "unknown cooperative",
  };
  const auth = ["auditor", "platform_admin", "coop_admin"];
  api.defineRoute(router, {
    method: "get",
    path: "/audit/cooperatives/:id/reconciliation.csv",
    summary: "A cooperative's reconciliation as CSV: exact integers with decimals beside, totals per token (member *)",
    tags: ["audit", "payouts"],
    auth,
    params: coopParams,
    responses,
    handler: ({ params, req, res }) => reconciliation(params.id, req, res, true),
  });
  api.defineRoute(router, {
    method: "get",
    path: "/audit/cooperatives/:id/reconciliation",
    summary:
      "Per member and token: shares, premiums, entitled, paid, advances, confirmed, contested, unanswered, outstanding " +
      "(negative when advances exceed shares), dirhams paid and confirmed; totals per token with its currency",
    tags: ["audit", "payouts"],
    auth,
    params: coopParams,
    responses,
    handler: ({ params, req, res }) => reconciliation(params.id, req, res, wantsCsv(req)),
  });
}
