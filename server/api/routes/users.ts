/**
 * Accounts: the platform admin creates registrars, certifiers, arbiters and auditors; buyers sign up
 * themselves (rate-limited); every user can see itself, rotate its token and (members) take custody
 * of its key. Tokens are shown once.
 */
import type { Router } from "express";
import { parseEther } from "ethers";
import { z } from "zod";
import type { GatewayContext } from "../context";
import type { OpenApiBuilder } from "../openapi";
import { requireUser } from "../auth";
import { ApiError } from "../problem";
import { address, hexBytes, noBody, signature65, text, uint } from "../validate";
import { createOperations } from "../operations";
import { FORWARD_REQUEST_TYPES } from "../../relayer";
import { EXPORT_CONFIRMATION } from "../../custody/users";
import { MockStablecoin__factory } from "../../../typechain-types";

const ONCHAIN_ROLE = { registrar: "REGISTRAR_ROLE", certifier: "CERTIFIER_ROLE", arbiter: "ARBITER_ROLE" } as const;

export function userRoutes(
  router: Router,
  api: OpenApiBuilder,
  ctx: GatewayContext,
  signupLimiter: import("express").RequestHandler,
): void {
  const { registry } = ctx.contracts;

  api.defineRoute(router, {
    method: "post",
    path: "/users",
    summary: "Create a registrar, certifier, arbiter or auditor (platform admin); the token is returned once",
    tags: ["users"],
    auth: ["platform_admin"],
    body: z.object({ role: z.enum(["registrar", "certifier", "arbiter", "auditor"]), displayName: text(200) }).strict(),
    responses: { 201: "created", 403: "not the platform admin" },
    async handler({ body, req, res }) {
      const admin = requireUser(req.user, "platform_admin");
      const { user, token } = ctx.users.create({ role: body.role, displayName: body.displayName, createdBy: admin.id });
      let txHash: string | null = null;
      if (body.role !== "auditor") {
        // Platform roles are granted by the platform's own account (DEFAULT_ADMIN_ROLE on-chain).
        try {
          const role = await registry[ONCHAIN_ROLE[body.role]]();
          const tx = await registry.connect(ctx.platformSigner).grantRole(role, user.address!);
          txHash = (await tx.wait())!.hash;
        } catch (err) {
          ctx.users.remove(user.id);
          throw err;
        }
      }
      // A token is shown once: no cache keeps it (and Idempotency-Key replays do not either).
      res.status(201).set("Cache-Control", "no-store");
      return { user, token, txHash };
    },
  });

  router.post("/buyers", signupLimiter);
  api.defineRoute(router, {
    method: "post",
    path: "/buyers",
    summary: "Sign up as a buyer (public, rate-limited); the token is returned once",
    tags: ["users"],
    auth: [],
    body: z.object({ displayName: text(200) }).strict(),
    responses: { 201: "created", 429: "too many sign-ups" },
    handler({ body, res }) {
      const { user, token } = ctx.users.create({ role: "buyer", displayName: body.displayName });
      res.status(201).set("Cache-Control", "no-store");
      return { user, token };
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/me",
    summary: "The caller's account",
    tags: ["users"],
    auth: ["any"],
    responses: { 200: "the account", 401: "no token" },
    handler: ({ req }) => requireUser(req.user),
  });

  api.defineRoute(router, {
    method: "post",
    path: "/me/token",
    summary: "Rotate the caller's token: the old one stops working, the new one is returned once",
    tags: ["users"],
    auth: ["any"],
    body: noBody,
    responses: { 201: "rotated", 401: "no token" },
    handler({ req, res }) {
      const user = requireUser(req.user);
      res.status(201).set("Cache-Control", "no-store");
      return { token: ctx.users.rotateToken(user.id) };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/users/:id/revoke",
    summary: "Revoke every token of a user (platform admin; a cooperative admin for its members)",
    tags: ["users"],
    auth: ["platform_admin", "coop_admin"],
    params: z.object({ id: z.string().uuid() }),
    body: noBody,
    responses: { 201: "revoked", 403: "forbidden", 404: "unknown user" },
    handler({ params, req, res }) {
      const caller = requireUser(req.user, "platform_admin", "coop_admin");
      const target = ctx.users.get(params.id);
      if (!target) throw new ApiError(404, "user_not_found", "no such user");
      if (caller.role === "coop_admin" && (target.role !== "member" || target.createdBy !== caller.id)) {
        throw new ApiError(403, "forbidden", "a cooperative admin may only revoke its own members' tokens");
      }
      ctx.users.revokeToken(target.id);
      res.status(201);
      return { revoked: target.id };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/me/export-key",
    summary: "Take custody of your own key. The gateway will no longer sign for you; keep the key safe.",
    tags: ["users"],
    auth: ["member", "coop_admin", "buyer"],
    body: z.object({ confirm: z.literal(EXPORT_CONFIRMATION) }).strict(),
    responses: { 201: "the key, once", 400: "confirmation missing", 401: "no token" },
    handler({ body, req, res }) {
      const user = requireUser(req.user, "member", "coop_admin", "buyer");
      const privateKey = ctx.users.exportKey(user.id, body.confirm);
      res.status(201).set("Cache-Control", "no-store");
      return { address: user.address, privateKey };
    },
  });

  // Self-custody: the member signs ERC-2771 forward requests itself and the gateway relays them.
  const ops = createOperations(ctx);
  const selfSigners = ["member", "coop_admin", "buyer"];

  api.defineRoute(router, {
    method: "get",
    path: "/me/forward-request",
    summary:
      "What to sign for a forward request: the forwarder's EIP-712 domain and types, the contracts and your next nonce (add one per request of yours still pending)",
    tags: ["users"],
    auth: selfSigners,
    responses: { 200: "domain, types, nonce", 403: "no key" },
    async handler({ req }) {
      const user = requireUser(req.user);
      if (user.address === null) throw new ApiError(403, "no_key", "this account has no key");
      const { forwarder } = ctx.contracts;
      const [, name, version, chainId, verifyingContract] = await forwarder.eip712Domain();
      const c = ctx.deployment.contracts;
      return {
        domain: { name, version, chainId: chainId.toString(), verifyingContract },
        types: FORWARD_REQUEST_TYPES,
        from: user.address,
        nonce: (await forwarder.nonces(user.address)).toString(),
        contracts: {
          CooperativeRegistry: c.CooperativeRegistry.address,
          BatchRegistry: c.BatchRegistry.address,
          SaleEscrow: c.SaleEscrow.address,
        },
      };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/me/forward-requests",
    summary: "Relay a forward request you signed with your own key (after exporting it); the relayer pays the gas",
    tags: ["users"],
    auth: selfSigners,
    body: z
      .object({
        to: address,
        gas: uint(64, 1n),
        deadline: uint(48, 1n),
        data: hexBytes,
        signature: signature65,
      })
      .strict(),
    responses: {
      201: "mined",
      202: "accepted",
      400: "invalid field",
      422: "bad signature, nonce or deadline, or rejected by the contract",
    },
    async handler({ body, req, res }) {
      const user = requireUser(req.user, "member", "coop_admin", "buyer");
      if (user.address === null) throw new ApiError(403, "no_key", "this account has no key");
      // No value: the relayer's ether is never sent on a member's behalf.
      return ops.writeSigned(req, res, user, { from: user.address, value: 0n, ...body });
    },
  });

  if (ctx.faucet) {
    const faucet = ctx.faucet;
    api.defineRoute(router, {
      method: "post",
      path: "/faucet",
      summary: "Embedded demo chain only: 1 test ETH and 1,000 demo stablecoins for a buyer",
      tags: ["users"],
      auth: ["buyer"],
      body: noBody,
      responses: { 201: "sent", 403: "not a buyer" },
      async handler({ req, res }) {
        const user = requireUser(req.user, "buyer");
        const eth = await faucet.signer.sendTransaction({ to: user.address!, value: parseEther("1") });
        await eth.wait();
        const coin = MockStablecoin__factory.connect(faucet.stablecoin, faucet.signer);
        const mint = await coin.mint(user.address!, 1_000n * 10n ** 6n);
        await mint.wait();
        res.status(201);
        return {
          eth: "1",
          stablecoin: { address: faucet.stablecoin, amount: "1000" },
          transactions: [eth.hash, mint.hash],
        };
      },
    });
  }
}
