/**
 * GET /health: 200 only when the gateway can serve (chain reachable, contracts deployed, index caught
 * up within its lag bound), 503 otherwise. Embedded chain: also its RPC URL.
 */
import type { Express } from "express";
import type { GatewayContext } from "../context";

export const MAX_INDEX_LAG = 10;

export function healthRoutes(app: Express, ctx: GatewayContext): void {
  app.get("/health", async (_req, res) => {
    const body: Record<string, unknown> = { chainId: ctx.chainId };
    if (ctx.embedded) body.rpcUrl = ctx.rpcUrl;
    let ok = true;
    try {
      const code = await ctx.client.getCode(ctx.deployment.contracts.SaleEscrow.address);
      body.contractsDeployed = code !== "0x";
      ok &&= code !== "0x";
      const index = await ctx.indexer.status();
      body.index = index;
      ok &&= index.lag <= MAX_INDEX_LAG;
      body.relayer = { balanceWei: (await ctx.relayer.balance()).toString(), ...ctx.relayer.depth() };
      body.chainReachable = true;
    } catch {
      body.chainReachable = false;
      ok = false;
    }
    body.status = ok ? "ok" : "unavailable";
    res.status(ok ? 200 : 503).json(body);
  });
}
