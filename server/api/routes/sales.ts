/**
 * Sales in escrow, claims and withdrawals. Actions that move no money of the caller go through the
 * relayer (the member needs no gas); a buyer's payment is the buyer's own transaction, from the
 * buyer's custodial account, since the escrow must receive the buyer's money and not the relayer's.
 */
import type { Router } from "express";
import { ZeroAddress, ZeroHash } from "ethers";
import { z } from "zod";
import type { GatewayContext } from "../context";
import type { OpenApiBuilder } from "../openapi";
import type { Operations } from "../operations";
import { eventArg } from "../operations";
import { requireCoopAdmin, requireUser } from "../auth";
import { ApiError } from "../problem";
import { address, bytes32, id, noBody, paging, uint } from "../validate";
import { buildContributorTree } from "../../../domain/contributors";
import { SALE_STATES } from "../../../domain/saleStates";
import { IERC20__factory, SaleEscrow__factory } from "../../../typechain-types";
import { encodeCall } from "../../chain/calldata";

const saleParams = z.object({ id });
const DAY = 86_400;
const STATES = SALE_STATES;

const token = z
  .union([z.literal("ETH"), address])
  .default("ETH")
  .transform((t) => (t === "ETH" ? ZeroAddress : t));

export function saleRoutes(router: Router, api: OpenApiBuilder, ctx: GatewayContext, ops: Operations): void {
  const { escrow } = ctx.contracts;
  const escrowAddress = ctx.deployment.contracts.SaleEscrow.address;

  async function onChainSale(saleId: number) {
    if (BigInt(saleId) > (await escrow.saleCount())) throw new ApiError(404, "sale_not_found", `no sale ${saleId}`);
    return escrow.getSale(saleId);
  }

  async function relay(
    req: Parameters<Operations["write"]>[0],
    res: Parameters<Operations["write"]>[1],
    user: Parameters<Operations["write"]>[2],
    fn: string,
    args: unknown[],
  ) {
    return ops.write(req, res, user, {
      to: escrowAddress,
      data: encodeCall(SaleEscrow__factory.abi, fn, args),
    });
  }

  api.defineRoute(router, {
    method: "post",
    path: "/sales",
    summary: "Offer a quantity of a batch for a price in ETH or an allowed stablecoin (cooperative admin)",
    tags: ["sales"],
    auth: ["coop_admin"],
    body: z
      .object({
        batchId: bytes32,
        quantity: uint(64, 1n),
        token,
        price: uint(128, 1n),
        buyer: address.optional(),
        shippingDays: z.number().int().min(1).max(180).default(14),
        disputeDays: z.number().int().min(1).max(180).default(7),
      })
      .strict(),
    responses: {
      201: "offered",
      403: "not this cooperative's admin",
      404: "unknown batch",
      422: "rejected by the contract",
    },
    async handler({ body, req, res }) {
      const batch = ctx.queries.getBatch(body.batchId);
      if (!batch) throw new ApiError(404, "batch_not_found", `no batch ${body.batchId}`);
      const user = await requireCoopAdmin(ctx, req.user, Number(batch.cooperativeId));
      const outcome = await relay(req, res, user, "createSale", [
        body.batchId,
        body.quantity,
        body.token,
        body.price,
        body.buyer ?? ZeroAddress,
        body.shippingDays * DAY,
        body.disputeDays * DAY,
      ]);
      return { ...outcome, saleId: eventArg(outcome, "SaleCreated", "saleId") ?? null };
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/sales",
    summary: "List sales (public)",
    tags: ["sales"],
    auth: [],
    query: paging.extend({
      batchId: bytes32.optional(),
      cooperativeId: id.optional(),
      state: z
        .enum(
          STATES.slice(1) as [Exclude<(typeof STATES)[number], "None">, ...Exclude<(typeof STATES)[number], "None">[]],
        )
        .optional(),
    }),
    responses: { 200: "a page of sales" },
    handler: ({ query }) => ctx.queries.listSales(query),
  });

  api.defineRoute(router, {
    method: "get",
    path: "/sales/:id",
    summary: "One sale with the transactions of each step and its split (public)",
    tags: ["sales"],
    auth: [],
    params: saleParams,
    responses: { 200: "the sale", 404: "unknown sale" },
    handler({ params }) {
      const sale = ctx.queries.getSale(params.id);
      if (!sale) throw new ApiError(404, "sale_not_found", `no sale ${params.id}`);
      return sale;
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/fund",
    summary: "Pay the price into escrow from the buyer's own account (the buyer pays its gas)",
    tags: ["sales"],
    auth: ["buyer"],
    params: saleParams,
    body: noBody,
    responses: { 201: "funded", 403: "not a buyer", 404: "unknown sale", 422: "rejected by the contract" },
    async handler({ params, req, res }) {
      const user = requireUser(req.user, "buyer");
      const sale = await onChainSale(params.id);
      if (STATES[Number(sale.state)] !== "Created") {
        throw new ApiError(
          422,
          "SaleEscrowInvalidState",
          `sale ${params.id} is ${STATES[Number(sale.state)]}, not open for funding`,
        );
      }
      const txs = await ctx.users.withWallet(user.id, ctx.provider, async (wallet) => {
        const hashes: string[] = [];
        if (sale.token !== ZeroAddress) {
          const erc20 = IERC20__factory.connect(sale.token, wallet);
          if ((await erc20.allowance(wallet.address, escrowAddress)) < sale.price) {
            const approve = await erc20.approve(escrowAddress, sale.price);
            await approve.wait();
            hashes.push(approve.hash);
          }
        }
        const e = escrow.connect(wallet);
        // Simulate first: a revert is answered with the decoded error and sends nothing.
        await e.fund.staticCall(params.id, { value: sale.token === ZeroAddress ? sale.price : 0n });
        const tx = await e.fund(params.id, { value: sale.token === ZeroAddress ? sale.price : 0n });
        const receipt = await tx.wait();
        hashes.push(tx.hash);
        return { receipt, hashes };
      });
      const receipt = txs.receipt!;
      await ctx.indexer.waitForBlock(receipt.blockNumber, 5_000);
      res.status(201);
      return {
        status: "mined",
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        transactions: txs.hashes,
        events: ops.decode(receipt.logs),
      };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/ship",
    summary: "Mark the goods shipped (cooperative admin)",
    tags: ["sales"],
    auth: ["coop_admin"],
    params: saleParams,
    body: z.object({ documentHash: bytes32.default(ZeroHash) }).strict(),
    responses: { 201: "shipped", 403: "not the seller", 404: "unknown sale", 422: "rejected by the contract" },
    async handler({ params, body, req, res }) {
      const sale = await onChainSale(params.id);
      const user = await requireCoopAdmin(ctx, req.user, Number(sale.cooperativeId));
      return relay(req, res, user, "markShipped", [params.id, body.documentHash]);
    },
  });

  for (const [action, fn, summary] of [
    ["confirm", "confirmDelivery", "Confirm delivery, which releases the payment (buyer)"],
    ["dispute", "openDispute", "Dispute a shipped sale within the window (buyer)"],
  ] as const) {
    api.defineRoute(router, {
      method: "post",
      path: `/sales/:id/${action}`,
      summary,
      tags: ["sales"],
      auth: ["buyer"],
      params: saleParams,
      body: z.object({ reasonHash: bytes32.default(ZeroHash) }).strict(),
      responses: { 201: "done", 403: "not the buyer", 404: "unknown sale", 422: "rejected by the contract" },
      async handler({ params, body, req, res }) {
        const user = requireUser(req.user, "buyer");
        const sale = await onChainSale(params.id);
        if (user.address === null || sale.buyer.toLowerCase() !== user.address.toLowerCase()) {
          throw new ApiError(403, "forbidden", "you are not the buyer of this sale");
        }
        return relay(req, res, user, fn, fn === "openDispute" ? [params.id, body.reasonHash] : [params.id]);
      },
    });
  }

  api.defineRoute(router, {
    method: "post",
    path: "/sales/:id/resolve",
    summary: "Settle a dispute: refundBps of the price back to the buyer, the rest released (arbiter)",
    tags: ["sales"],
    auth: ["arbiter"],
    params: saleParams,
    body: z.object({ refundBps: z.number().int().min(0).max(10_000), rulingHash: bytes32.default(ZeroHash) }).strict(),
    responses: { 201: "resolved", 403: "not an arbiter", 404: "unknown sale", 422: "rejected by the contract" },
    async handler({ params, body, req, res }) {
      const user = requireUser(req.user, "arbiter");
      await onChainSale(params.id);
      return relay(req, res, user, "resolveDispute", [params.id, body.refundBps, body.rulingHash]);
    },
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
    async handler({ params, req, res }) {
      const sale = await onChainSale(params.id);
      const user = requireUser(req.user, "coop_admin", "buyer");
      if (user.role === "coop_admin") await requireCoopAdmin(ctx, user, Number(sale.cooperativeId));
      else if (user.address === null || sale.buyer.toLowerCase() !== user.address.toLowerCase()) {
        throw new ApiError(403, "forbidden", "you are not the buyer of this sale");
      }
      return relay(req, res, user, "cancel", [params.id]);
    },
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
    async handler({ params, req, res }) {
      const user = requireUser(req.user);
      await onChainSale(params.id);
      return relay(req, res, user, "release", [params.id]);
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/me/balances",
    summary: "What the caller has earned, claimed and can still claim, per batch and token",
    tags: ["claims"],
    auth: ["member", "coop_admin", "buyer"],
    responses: { 200: "balances", 401: "no token" },
    handler({ req }) {
      const user = requireUser(req.user);
      if (user.address === null) return [];
      return ctx.queries.balancesOf(user.address);
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/claims",
    summary: "Pay a member its share of a batch's sales (the member itself, or its cooperative's admin for it)",
    tags: ["claims"],
    auth: ["member", "coop_admin"],
    body: z.object({ batchId: bytes32, token, memberId: z.string().uuid().optional() }).strict(),
    responses: { 201: "paid", 403: "forbidden", 404: "unknown batch or member", 422: "nothing due or rejected" },
    async handler({ body, req, res }) {
      const caller = requireUser(req.user, "member", "coop_admin");
      const batch = ctx.queries.getBatch(body.batchId);
      if (!batch) throw new ApiError(404, "batch_not_found", `no batch ${body.batchId}`);
      let member = caller;
      if (body.memberId !== undefined && body.memberId !== caller.id) {
        const target = ctx.users.get(body.memberId);
        if (!target || target.role !== "member") throw new ApiError(404, "member_not_found", "no such member");
        // Only the admin of the member's own cooperative may trigger its payout (always to the member).
        if (caller.role !== "coop_admin" || target.cooperativeId === null)
          throw new ApiError(403, "forbidden", "you may only claim for yourself");
        await requireCoopAdmin(ctx, caller, target.cooperativeId);
        member = target;
      }
      const tree = buildContributorTree(
        batch.contributors.map((c) => ({ account: c.account, weight: BigInt(c.weight) })),
      );
      const weight = tree.weightOf(member.address ?? ZeroAddress);
      if (weight === 0n) throw new ApiError(422, "not_a_contributor", "this member did not contribute to the batch");
      const outcome = await relay(req, res, caller, "claimFor", [
        body.batchId,
        body.token,
        member.address,
        weight,
        tree.proof(member.address!),
      ]);
      return { ...outcome, amount: eventArg(outcome, "Claimed", "amount") ?? null };
    },
  });

  api.defineRoute(router, {
    method: "post",
    path: "/withdrawals",
    summary: "Withdraw refunds credited to the caller (buyers) in a token",
    tags: ["claims"],
    auth: ["buyer", "platform_admin"],
    body: z.object({ token }).strict(),
    responses: { 201: "paid", 422: "nothing due" },
    async handler({ body, req, res }) {
      const user = requireUser(req.user, "buyer", "platform_admin");
      return relay(req, res, user, "withdraw", [body.token, user.address]);
    },
  });
}
