/**
 * ethers providers for Hardhat tests and scripts (dev code: the gateway talks to the node through
 * server/chain/client.ts, on viem). JSON-RPC access. ethers' defaults (request batching with a 10 ms stall, polling every 4 s) cost
 * ~10 ms per call against a local node: use a static network, no batching and a short poll. Its
 * 250 ms cache of identical requests is off too: two sends in a row would otherwise read the same
 * stale account nonce.
 *
 * The transport is Node's own HTTP client with keep-alive connections and the built-in JSON parser
 * (`_send` below), not ethers' FetchRequest, which converts every request and answer body to and
 * from UTF-8 in JavaScript: under load that was ~6% of the gateway's CPU. Everything above the
 * transport (formatting, errors of JSON-RPC answers, contracts) is ethers' own.
 */
import http from "node:http";
import https from "node:https";
import { JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";

/** A failure below JSON-RPC: no connection, no answer in time, an HTTP error without a JSON-RPC body. */
export class RpcTransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "RpcTransportError";
  }
}

/** Most time one HTTP exchange with the node may take; callers bound their own waits below it. */
const REQUEST_TIMEOUT_MS = 60_000;

export class NodeJsonRpcProvider extends JsonRpcProvider {
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #client: typeof http | typeof https;

  constructor(rpcUrl: string, network: Network, options: ConstructorParameters<typeof JsonRpcProvider>[2]) {
    super(rpcUrl, network, options);
    this.#url = new URL(rpcUrl);
    if (this.#url.protocol !== "http:" && this.#url.protocol !== "https:") {
      throw new RpcTransportError(`RPC_URL must be http(s), not ${this.#url.protocol}`, "BAD_URL");
    }
    this.#client = this.#url.protocol === "https:" ? https : http;
    this.#agent = new this.#client.Agent({ keepAlive: true, maxSockets: 16 });
  }

  override _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const body = Buffer.from(JSON.stringify(payload), "utf8");
    const url = this.#url;
    return new Promise((resolve, reject) => {
      const req = this.#client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: "POST",
          agent: this.#agent,
          auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
          headers: { "content-type": "application/json", "content-length": body.length },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            // A node may answer a JSON-RPC error with an HTTP error status: the JSON-RPC answer wins.
            if (json === undefined || json === null || typeof json !== "object") {
              const status = res.statusCode ?? 0;
              reject(
                new RpcTransportError(
                  `the node answered HTTP ${status} without a JSON-RPC body`,
                  status >= 200 && status < 300 ? "BAD_DATA" : "SERVER_ERROR",
                  status,
                ),
              );
              return;
            }
            resolve((Array.isArray(json) ? json : [json]) as JsonRpcResult[]); // errors included, as ethers does
          });
        },
      );
      req.on("timeout", () => {
        req.destroy(new RpcTransportError(`no answer from the node in ${REQUEST_TIMEOUT_MS} ms`, "TIMEOUT"));
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        reject(
          err instanceof RpcTransportError
            ? err
            : new RpcTransportError(`cannot reach the node: ${err.code ?? err.message}`, "NETWORK_ERROR"),
        );
      });
      req.end(body);
    });
  }

  override destroy(): void {
    this.#agent.destroy();
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
