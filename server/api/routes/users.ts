/**
 * Accounts over HTTP: parse, call the user service, answer. The logic (who may, the on-chain role
 * grant, sessions ended with a token, self-custody, the faucet's daily grant) is in
 * server/services/users.ts. Tokens and keys are shown once: those answers are never cached.
 */
import type { RequestHandler, Response, Router } from "express";
import { z } from "zod";
import type { Services } from "../../services";
import {
  buyerSignUpInput,
  createUserInput,
  exportKeyInput,
  forwardRequestInput,
  userIdInput,
} from "../../services/users";
import type { OpenApiBuilder } from "../openapi";
import { answerWrite, waitPreference } from "../operations";
import { noBody } from "../validate";

/** 201, not stored by any cache (an Idempotency-Key replay does not keep it either). */
function createdOnce(res: Response): void {
  res.status(201).set("Cache-Control", "no-store");
}

type UserService = Services["users"];

export function userRoutes(
  router: Router,
  api: OpenApiBuilder,
  services: Services,
  signupLimiter: RequestHandler,
): void {
  accountRoutes(router, api, services.users, signupLimiter);
  selfCustodyRoutes(router, api, services.users);
}

/** Accounts and their tokens: created by the platform admin, buyers' sign-up, rotation, revocation, key export. */
function accountRoutes(router: Router, api: OpenApiBuilder, users: UserService, signupLimiter: RequestHandler): void {
  api.defineRoute(router, {
    method: "post",
    path: "/users",
    summary: "Create a registrar, certifier, arbiter or auditor (platform admin); the token is returned once",
    tags: ["users"],
    auth: ["platform_admin"],
    body: createUserInput,
    responses: {
      201: "created",
      403: "not the platform admin",
      503: "platform_key_missing: the gateway has no platform key to grant the on-chain role",
    },
    async handler({ body, req, res }) {
      const created = await users.create(req.user, body);
      createdOnce(res);
      return created;
    },
  });

  router.post("/buyers", signupLimiter);
  api.defineRoute(router, {
    method: "post",
    path: "/buyers",
    summary: "Sign up as a buyer (public, rate-limited); the token is returned once",
    tags: ["users"],
    auth: [],
    body: buyerSignUpInput,
    responses: { 201: "created", 429: "too many sign-ups" },
    handler({ body, res }) {
      const created = users.signUpBuyer(body);
      createdOnce(res);
      return created;
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/me",
    summary: "The caller's account",
    tags: ["users"],
    auth: ["any"],
    responses: { 200: "the account", 401: "no token" },
    handler: ({ req }) => users.me(req.user),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/me/token",
    summary:
      "Rotate the caller's token: the old one and every browser session stop working, the new one is returned once",
    tags: ["users"],
    auth: ["any"],
    body: noBody,
    responses: { 201: "rotated", 401: "no token" },
    handler({ req, res }) {
      const rotated = users.rotateToken(req.user);
      createdOnce(res);
      return rotated;
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/users/:id/revoke",
    summary: "Revoke every token and browser session of a user (platform admin; a cooperative admin for its members)",
    tags: ["users"],
    auth: ["platform_admin", "coop_admin"],
    params: z.object({ id: userIdInput }),
    body: noBody,
    responses: { 201: "revoked", 403: "forbidden", 404: "unknown user" },
    handler({ params, req, res }) {
      const revoked = users.revoke(req.user, params.id);
      res.status(201);
      return revoked;
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/me/export-key",
    summary: "Take custody of your own key. The gateway will no longer sign for you; keep the key safe.",
    tags: ["users"],
    auth: ["member", "coop_admin", "buyer"],
    body: exportKeyInput,
    responses: { 201: "the key, once", 400: "confirmation missing", 401: "no token" },
    handler({ body, req, res }) {
      const exported = users.exportKey(req.user, body);
      createdOnce(res);
      return exported;
    },
  });
}

/**
 * Self-custody: the member signs ERC-2771 forward requests itself and the gateway relays them; and,
 * on the embedded demo chain, the buyers' faucet.
 */
function selfCustodyRoutes(router: Router, api: OpenApiBuilder, users: UserService): void {
  const selfSigners = ["member", "coop_admin", "buyer"];

  api.defineRoute(router, {
    method: "get",
    path: "/me/forward-request",
    summary:
      "What to sign for a forward request: the forwarder's EIP-712 domain and types, the contracts and your next nonce (add one per request of yours still pending)",
    tags: ["users"],
    auth: selfSigners,
    responses: { 200: "domain, types, nonce", 403: "no key" },
    handler: ({ req }) => users.forwardRequestInfo(req.user),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/me/forward-requests",
    summary: "Relay a forward request you signed with your own key (after exporting it); the relayer pays the gas",
    tags: ["users"],
    auth: selfSigners,
    body: forwardRequestInput,
    responses: {
      201: "mined",
      202: "accepted",
      400: "invalid field",
      403: "relay_not_allowed: not a CoopTrace contract, a view function, or a function your role may not call",
      422: "bad signature, nonce, deadline or gas (gas_too_low, gas_too_high), or rejected by the contract",
      429: "user_rate_limited, or gas_budget_exceeded (your gas for the UTC day is spent)",
    },
    async handler({ body, req, res }) {
      return answerWrite(res, await users.relaySigned(req.user, body, waitPreference(req)));
    },
  });

  // Only where there is a faucet (the embedded demo chain): elsewhere the route does not exist at all.
  if (users.hasFaucet) {
    api.defineRoute(router, {
      method: "post",
      path: "/faucet",
      summary: "Embedded demo chain only: 1 test ETH and 1,000 demo stablecoins for a buyer, once per UTC day",
      tags: ["users"],
      auth: ["buyer"],
      body: noBody,
      responses: { 201: "sent", 403: "not a buyer", 429: "already paid today (Retry-After: until 00:00 UTC)" },
      async handler({ req, res }) {
        const paid = await users.useFaucet(req.user);
        res.status(201);
        return paid;
      },
    });
  }
}
