/**
 * JSON-RPC access. ethers' defaults (request batching with a 10 ms stall, polling every 4 s) cost
 * ~10 ms per call against a local node: use a static network, no batching and a short poll. Its
 * 250 ms cache of identical requests is off too: two sends in a row would otherwise read the same
 * stale account nonce.
 */
import { JsonRpcProvider, Network } from "ethers";

export function createProvider(rpcUrl: string, chainId: number, pollingInterval = 100): JsonRpcProvider {
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
    batchMaxCount: 1,
    pollingInterval,
    cacheTimeout: -1,
  });
}
