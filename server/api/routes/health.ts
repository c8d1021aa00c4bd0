/**
 * GET /health: 200 only when the gateway can serve (chain reachable, contracts deployed, index caught
 * up within its lag bound, relayer not stalled), 503 otherwise. Embedded chain: also its RPC URL.
 */
import type { Express } from "express";
import type { NetworkService } from "../../services/network";
import type { HttpSettings } from "../context";

export const MAX_INDEX_LAG = 10;

export function healthRoutes(
  app: Express,
  deps: { network: NetworkService; settings: Pick<HttpSettings, "chainId" | "embedded" | "rpcUrl"> },
): void {
  const { network, settings } = deps;
  app.get("/health", async (_req, res) => {
    const body: Record<string, unknown> = { chainId: settings.chainId };
    if (settings.embedded) body.rpcUrl = settings.rpcUrl;
    let ok = true;
    try {
      const deployed = await network.escrowDeployed();
      body.contractsDeployed = deployed;
      ok &&= deployed;
      const index = await network.indexStatus();
      body.index = index;
      ok &&= index.lag <= MAX_INDEX_LAG;
      const relayer = await network.relayer();
      body.relayer = relayer;
      // Requests held while the chain moves on (a nonce the node holds back, a balance that cannot pay).
      ok &&= !relayer.stalled;
      body.chainReachable = true;
    } catch {
      body.chainReachable = false;
      ok = false;
    }
    body.status = ok ? "ok" : "unavailable";
    res.status(ok ? 200 : 503).json(body);
  });
}
