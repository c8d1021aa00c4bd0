/**
 * The gateway's one JSON-RPC client (the only code that talks to the node), built on viem.
 *
 * The transport is Node's own HTTP client with keep-alive connections and the built-in JSON parser
 * (a `custom` viem transport): no batching stall, no cache of identical requests (two sends in a row
 * must read a fresh account nonce), and failures below JSON-RPC as RpcTransportError. Above it, a
 * viem public client (`client.viem`) for typed contract reads, and the few reads the relayer and the
 * index make on every round, answered in the shapes they have always used: block numbers as numbers,
 * addresses checksummed, errors with a stable `code` (ChainError, below).
 */
import http from "node:http";
import https from "node:https";
import {
  createPublicClient,
  custom,
  decodeErrorResult,
  decodeFunctionResult,
  defineChain,
  encodeFunctionData,
  getAddress,
  type Abi,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type ContractFunctionReturnType,
  type Hex,
  type PublicClient,
} from "viem";

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

/** A JSON-RPC error object as the node sent it. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * The node answered with a JSON-RPC error, or an answer that cannot be used. `code` is what callers
 * decide on (the words ethers used, kept so the API's answers and the relayer's decisions stay the
 * same): CALL_EXCEPTION (a call or gas estimate reverted: `data` the revert data, `revert` the
 * decoded error when the ABI knows it), INSUFFICIENT_FUNDS, NONCE_EXPIRED, REPLACEMENT_UNDERPRICED,
 * BAD_DATA (`value` the undecodable answer, "0x" when no contract answered), UNKNOWN_ERROR.
 */
export class ChainError extends Error {
  readonly shortMessage: string;
  data?: Hex;
  revert?: { name: string; signature: string; args: readonly unknown[] };
  value?: unknown;
  /** The node's JSON-RPC error (absent when the node answered nothing usable). */
  readonly info?: { error: JsonRpcErrorObject; method: string };

  constructor(
    readonly code: string,
    message: string,
    extra: { error?: JsonRpcErrorObject; method?: string; data?: Hex; value?: unknown } = {},
  ) {
    super(message);
    this.name = "ChainError";
    this.shortMessage = message;
    if (extra.error) this.info = { error: extra.error, method: extra.method ?? "" };
    if (extra.data !== undefined) this.data = extra.data;
    if ("value" in extra) this.value = extra.value;
  }
}

/** Most time one HTTP exchange with the node may take; callers bound their own waits below it. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: number;
  method: string;
  params: unknown[];
}
export interface JsonRpcAnswer {
  id: number;
  result?: unknown;
  error?: JsonRpcErrorObject;
}

/** POSTs one JSON-RPC payload (a request or a batch) and gives the answers, errors included. */
export function createHttpJsonRpc(rpcUrl: string) {
  const url = new URL(rpcUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RpcTransportError(`RPC_URL must be http(s), not ${url.protocol}`, "BAD_URL");
  }
  const client = url.protocol === "https:" ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 16 });

  function post(payload: JsonRpcRequest | JsonRpcRequest[]): Promise<JsonRpcAnswer[]> {
    const body = Buffer.from(JSON.stringify(payload), "utf8");
    return new Promise((resolve, reject) => {
      const req = client.request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: "POST",
          agent,
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
            resolve((Array.isArray(json) ? json : [json]) as JsonRpcAnswer[]);
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

  return { post, destroy: () => agent.destroy() };
}

const HEX_DATA = /^0x(?:[0-9a-fA-F]{2})*$/;

/** The revert data somewhere in a node's error (anvil, Hardhat and geth put it in different places). */
function revertData(error: JsonRpcErrorObject): Hex | undefined {
  const seen = new Set<unknown>();
  const walk = (v: unknown): Hex | undefined => {
    if (v === null || v === undefined || seen.has(v)) return undefined;
    if (typeof v === "string") return HEX_DATA.test(v) ? (v as Hex) : undefined;
    if (typeof v !== "object") return undefined;
    seen.add(v);
    const o = v as { data?: unknown };
    return walk(o.data);
  };
  return walk(error.data);
}

/** What a node's JSON-RPC error means, in the words the callers decide on (ethers' own mapping). */
export function chainErrorOf(method: string, error: JsonRpcErrorObject): ChainError {
  const message = typeof error.message === "string" ? error.message : JSON.stringify(error);
  if (method === "eth_estimateGas" && !/revert/i.test(message) && /insufficient funds/i.test(message)) {
    return new ChainError("INSUFFICIENT_FUNDS", "insufficient funds for intrinsic transaction cost", { error, method });
  }
  if (method === "eth_call" || method === "eth_estimateGas") {
    const data = revertData(error);
    const e = new ChainError("CALL_EXCEPTION", data && data !== "0x" ? "execution reverted" : message, {
      error,
      method,
      data: data ?? undefined,
    });
    const builtin = data ? builtinRevert(data) : undefined;
    if (builtin) e.revert = builtin;
    return e;
  }
  if (method === "eth_sendRawTransaction" || method === "eth_sendTransaction") {
    const text = JSON.stringify(error);
    if (/insufficient funds|base fee exceeds gas limit/i.test(text)) {
      return new ChainError("INSUFFICIENT_FUNDS", "insufficient funds for intrinsic transaction cost", {
        error,
        method,
      });
    }
    if (/nonce/i.test(text) && /too low/i.test(text)) {
      return new ChainError("NONCE_EXPIRED", "nonce has already been used", { error, method });
    }
    if (/replacement transaction/i.test(text) && /underpriced/i.test(text)) {
      return new ChainError("REPLACEMENT_UNDERPRICED", "replacement fee too low", { error, method });
    }
  }
  return new ChainError("UNKNOWN_ERROR", `could not coalesce error (${message})`, { error, method });
}

const BUILTIN_ERRORS = [
  { type: "error", name: "Error", inputs: [{ name: "message", type: "string" }] },
  { type: "error", name: "Panic", inputs: [{ name: "code", type: "uint256" }] },
] as const;

function builtinRevert(data: Hex): ChainError["revert"] {
  try {
    const { errorName, args } = decodeErrorResult({ abi: BUILTIN_ERRORS, data });
    return { name: errorName, signature: errorName === "Error" ? "Error(string)" : "Panic(uint256)", args: args ?? [] };
  } catch {
    return undefined;
  }
}

function errorSignature(abi: Abi, name: string): string {
  const item = abi.find((x) => x.type === "error" && x.name === name);
  return item && item.type === "error" ? `${name}(${item.inputs.map((i) => i.type).join(",")})` : name;
}

export type BlockTag = "latest" | "pending" | "earliest" | "safe" | "finalized" | number | bigint;

function tag(t: BlockTag | undefined): string {
  if (t === undefined) return "latest";
  return typeof t === "string" ? t : `0x${BigInt(t).toString(16)}`;
}

function quantity(v: bigint | number): Hex {
  return `0x${BigInt(v).toString(16)}`;
}

/** A log as the gateway uses it: addresses checksummed, positions as numbers. */
export interface ChainLog {
  address: string;
  topics: Hex[];
  data: Hex;
  blockNumber: number;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: number;
  /** The log's index in its block. */
  index: number;
  removed: boolean;
}

export interface ChainReceipt {
  hash: Hex;
  blockNumber: number;
  blockHash: Hex;
  /** 1 success, 0 reverted. */
  status: number | null;
  from: string;
  to: string | null;
  contractAddress: string | null;
  gasUsed: bigint;
  /** The price paid per gas. */
  gasPrice: bigint;
  logs: ChainLog[];
}

export interface ChainBlock {
  number: number;
  hash: Hex;
  parentHash: Hex;
  timestamp: number;
  baseFeePerGas: bigint | null;
}

/** Fees to offer, as ethers derived them: maxFee = 2 × base fee + priority fee (1 gwei when the node has no opinion). */
export interface FeeData {
  gasPrice: bigint | null;
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
}

export interface CallRequest {
  to: string;
  data?: string;
  from?: string;
  value?: bigint;
  gas?: bigint;
}

export interface LogFilter {
  address?: string | string[];
  topics?: (string | string[] | null)[];
  fromBlock?: BlockTag;
  toBlock?: BlockTag;
  blockHash?: string;
}

type RawLog = {
  address: string;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  removed?: boolean;
};

export function formatLog(l: RawLog): ChainLog {
  return {
    address: getAddress(l.address),
    topics: l.topics,
    data: l.data,
    blockNumber: Number(l.blockNumber),
    blockHash: l.blockHash,
    transactionHash: l.transactionHash,
    transactionIndex: Number(l.transactionIndex),
    index: Number(l.logIndex),
    removed: l.removed === true,
  };
}

function formatReceipt(r: Record<string, unknown>): ChainReceipt {
  return {
    hash: r.transactionHash as Hex,
    blockNumber: Number(r.blockNumber),
    blockHash: r.blockHash as Hex,
    status: r.status === undefined || r.status === null ? null : Number(r.status),
    from: getAddress(r.from as string),
    to: typeof r.to === "string" ? getAddress(r.to) : null,
    contractAddress: typeof r.contractAddress === "string" ? getAddress(r.contractAddress) : null,
    gasUsed: BigInt(r.gasUsed as string),
    gasPrice: BigInt((r.effectiveGasPrice ?? r.gasPrice ?? "0x0") as string),
    logs: ((r.logs as RawLog[]) ?? []).map(formatLog),
  };
}

function formatBlock(b: Record<string, unknown>): ChainBlock {
  return {
    number: Number(b.number),
    hash: b.hash as Hex,
    parentHash: b.parentHash as Hex,
    timestamp: Number(b.timestamp),
    baseFeePerGas: typeof b.baseFeePerGas === "string" ? BigInt(b.baseFeePerGas) : null,
  };
}

function callObject(c: CallRequest): Record<string, string> {
  const out: Record<string, string> = { to: c.to };
  if (c.data !== undefined) out.data = c.data;
  if (c.from !== undefined) out.from = c.from;
  if (c.value !== undefined) out.value = quantity(c.value);
  if (c.gas !== undefined) out.gas = quantity(c.gas);
  return out;
}

export type ChainClient = ReturnType<typeof createChainClient>;

/**
 * The client of the node at `rpcUrl`, whose chain id is known (`chainId`, checked by the caller).
 * `pollingInterval` is the viem client's, for the few waits that poll.
 */
export function createChainClient(rpcUrl: string, chainId: number, pollingInterval = 100) {
  const transport = createHttpJsonRpc(rpcUrl);
  let nextId = 1;

  /** One JSON-RPC call; a JSON-RPC error as ChainError, no answer as RpcTransportError. */
  async function request<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const [answer] = await transport.post({ jsonrpc: "2.0", id: nextId++, method, params });
    if (answer?.error) throw chainErrorOf(method, answer.error);
    if (answer === undefined || !("result" in answer)) {
      throw new ChainError("BAD_DATA", `${method}: the node's answer has no result`, { value: answer });
    }
    return answer.result as T;
  }

  /** Several calls in one HTTP exchange; the answers as the node gave them (errors included), by id. */
  function batch(payload: JsonRpcRequest[]): Promise<JsonRpcAnswer[]> {
    return transport.post(payload);
  }

  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const viem: PublicClient = createPublicClient({
    chain,
    pollingInterval,
    transport: custom({ request: ({ method, params }) => request(method, (params as unknown[]) ?? []) }),
  });

  async function call(c: CallRequest, blockTag?: BlockTag): Promise<Hex> {
    return request<Hex>("eth_call", [callObject(c), tag(blockTag)]);
  }

  /** eth_call; a revert's error decoded with `abi` when it knows it (ChainError.revert). */
  async function callDecoding(abi: Abi, c: CallRequest, blockTag?: BlockTag): Promise<Hex> {
    try {
      return await call(c, blockTag);
    } catch (err) {
      if (err instanceof ChainError && err.code === "CALL_EXCEPTION" && err.data && err.data.length >= 10) {
        try {
          const { errorName, args } = decodeErrorResult({ abi, data: err.data });
          err.revert = {
            name: errorName,
            signature: errorSignature(abi, errorName),
            args: (args ?? []) as readonly unknown[],
          };
        } catch {
          // not one of this ABI's errors
        }
      }
      throw err;
    }
  }

  /**
   * A contract read: the call, its result decoded with `abi`. A revert is a CALL_EXCEPTION with the
   * error decoded (`revert`) when `abi` knows it; an empty answer where outputs were expected is
   * BAD_DATA with value "0x" (no contract at the address).
   */
  async function read<
    const abi extends Abi,
    name extends ContractFunctionName<abi, "pure" | "view">,
    const args extends ContractFunctionArgs<abi, "pure" | "view", name>,
  >(p: {
    address: string;
    abi: abi;
    functionName: name;
    args?: args;
    blockTag?: BlockTag;
    from?: string;
  }): Promise<ContractFunctionReturnType<abi, "pure" | "view", name, args>> {
    const data = encodeFunctionData({ abi: p.abi, functionName: p.functionName, args: p.args } as never);
    const out = await callDecoding(p.abi, { to: p.address, data, from: p.from }, p.blockTag);
    if (out === "0x") {
      throw new ChainError("BAD_DATA", `could not decode result data (${p.functionName} at ${p.address})`, {
        value: "0x",
      });
    }
    return decodeFunctionResult({ abi: p.abi, functionName: p.functionName, data: out } as never) as never;
  }

  return {
    chainId,
    rpcUrl,
    viem,
    request,
    batch,
    call,
    callDecoding,
    read,
    getBlockNumber: async () => Number(await request<Hex>("eth_blockNumber")),
    async getBlock(blockTag: BlockTag | Hex = "latest"): Promise<ChainBlock | null> {
      const byHash = typeof blockTag === "string" && blockTag.length === 66;
      const b = await request<Record<string, unknown> | null>(byHash ? "eth_getBlockByHash" : "eth_getBlockByNumber", [
        byHash ? blockTag : tag(blockTag as BlockTag),
        false,
      ]);
      return b === null ? null : formatBlock(b);
    },
    getCode: (address: string, blockTag?: BlockTag) => request<Hex>("eth_getCode", [address, tag(blockTag)]),
    getBalance: async (address: string, blockTag?: BlockTag) =>
      BigInt(await request<Hex>("eth_getBalance", [address, tag(blockTag)])),
    getTransactionCount: async (address: string, blockTag?: BlockTag) =>
      Number(await request<Hex>("eth_getTransactionCount", [address, tag(blockTag)])),
    estimateGas: async (c: CallRequest) => BigInt(await request<Hex>("eth_estimateGas", [callObject(c)])),
    async getLogs(filter: LogFilter): Promise<ChainLog[]> {
      const f: Record<string, unknown> = {};
      if (filter.address !== undefined) f.address = filter.address;
      if (filter.topics !== undefined) f.topics = filter.topics;
      if (filter.blockHash !== undefined) f.blockHash = filter.blockHash;
      else {
        f.fromBlock = tag(filter.fromBlock);
        f.toBlock = tag(filter.toBlock);
      }
      return (await request<RawLog[]>("eth_getLogs", [f])).map(formatLog);
    },
    async getTransactionReceipt(hash: string): Promise<ChainReceipt | null> {
      const r = await request<Record<string, unknown> | null>("eth_getTransactionReceipt", [hash]);
      return r === null || r.blockNumber === null ? null : formatReceipt(r);
    },
    /** ethers' fee data: the head's base fee, eth_gasPrice and eth_maxPriorityFeePerGas, each allowed to fail but the block. */
    async getFeeData(): Promise<FeeData> {
      const [block, gasPrice, priorityFee] = await Promise.all([
        request<Record<string, unknown> | null>("eth_getBlockByNumber", ["latest", false]),
        request<Hex>("eth_gasPrice").then(BigInt, () => null),
        request<Hex>("eth_maxPriorityFeePerGas").then(BigInt, () => null),
      ]);
      const base = block !== null && typeof block.baseFeePerGas === "string" ? BigInt(block.baseFeePerGas) : null;
      if (!base) return { gasPrice, maxFeePerGas: null, maxPriorityFeePerGas: null };
      const maxPriorityFeePerGas = priorityFee ?? 1_000_000_000n;
      return { gasPrice, maxFeePerGas: base * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas };
    },
    /** Sends a signed raw transaction; its hash. */
    sendRawTransaction: (raw: string) => request<Hex>("eth_sendRawTransaction", [raw]),
    /** Polls for a receipt every `pollingInterval` ms until `timeoutMs`. */
    async waitForReceipt(hash: string, timeoutMs = 60_000): Promise<ChainReceipt> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await this.getTransactionReceipt(hash);
        if (r !== null) return r;
        if (Date.now() > until) throw new ChainError("TIMEOUT", `no receipt for ${hash} in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, pollingInterval));
      }
    },
    destroy: () => transport.destroy(),
  };
}
