/**
 * ethers providers for Hardhat tests and scripts (dev code: the gateway talks to the node through
 * server/chain/client.ts, on viem). JSON-RPC access. ethers' defaults (request batching with a 10 ms stall, polling every 4 s) cost
 * ~10 ms per call against a local node: use a static network, no batching and a short poll. Its
 * 250 ms cache of identical requests is off too: two sends in a row would otherwise read the same
 * stale account nonce.
 *
 * The transport is the gateway's own (createHttpJsonRpc in server/chain/client.ts: Node's HTTP
 * client with keep-alive connections and the built-in JSON parser), not ethers' FetchRequest, which
 * converts every request and answer body to and from UTF-8 in JavaScript: under load that was ~6% of
 * the gateway's CPU. Everything above the transport (formatting, errors of JSON-RPC answers,
 * contracts) is ethers' own.
 */
import { JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { createHttpJsonRpc, type JsonRpcRequest } from "../server/chain/client";

/** A failure below JSON-RPC: no connection, no answer in time, an HTTP error without a JSON-RPC body. */
export { RpcTransportError } from "../server/chain/client";

export class NodeJsonRpcProvider extends JsonRpcProvider {
  readonly #http: ReturnType<typeof createHttpJsonRpc>;

  constructor(rpcUrl: string, network: Network, options: ConstructorParameters<typeof JsonRpcProvider>[2]) {
    super(rpcUrl, network, options);
    this.#http = createHttpJsonRpc(rpcUrl);
  }

  override _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    // The answers are returned errors included, as ethers does.
    return this.#http.post(payload as JsonRpcRequest | JsonRpcRequest[]) as Promise<JsonRpcResult[]>;
  }

  override destroy(): void {
    this.#http.destroy();
    super.destroy();
  }
}

function options(network: Network, pollingInterval: number) {
  return { staticNetwork: network, batchMaxCount: 1, pollingInterval, cacheTimeout: -1 };
}

export function createProvider(rpcUrl: string, chainId: number, pollingInterval = 100): JsonRpcProvider {
  const network = Network.from(chainId);
  return new NodeJsonRpcProvider(rpcUrl, network, options(network, pollingInterval));
}

/** ethers' stock JsonRpcProvider (FetchRequest transport) with the same options: the benchmark's raw client. */
export function createStockProvider(rpcUrl: string, chainId: number, pollingInterval = 100): JsonRpcProvider {
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, options(network, pollingInterval));
}
