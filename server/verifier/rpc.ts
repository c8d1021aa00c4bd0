/**
 * A minimal JSON-RPC client for the verifier. It speaks only to the node it is given, and only the
 * read methods it needs: the chain id, the latest block number (to pin one consistent snapshot),
 * contract code, calls and logs. Every method used is counted, so a report can show it.
 */

export const ALLOWED_METHODS = ["eth_chainId", "eth_blockNumber", "eth_getCode", "eth_call", "eth_getLogs"] as const;
export type RpcMethod = (typeof ALLOWED_METHODS)[number];

/** The node cannot be reached or does not answer JSON-RPC (exit code 2). */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** The node answered with a JSON-RPC error. */
export class RpcError extends Error {
  override name = "RpcError";
  constructor(
    message: string,
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

export interface LogFilter {
  address: string;
  topics: (string | string[] | null)[];
}

export class RpcClient {
  /** Requests sent, per method. */
  readonly used: Record<string, number> = {};
  private nextId = 1;

  constructor(
    readonly url: string,
    private readonly timeoutMs = 30_000,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConnectionError(`--rpc ${url} is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new ConnectionError(`--rpc ${url}: only http(s) JSON-RPC endpoints are supported`);
    }
  }

  async call<T = unknown>(method: RpcMethod, params: unknown[]): Promise<T> {
    if (!(ALLOWED_METHODS as readonly string[]).includes(method)) throw new Error(`method ${method} is not allowed`);
    this.used[method] = (this.used[method] ?? 0) + 1;
    const id = this.nextId++;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ConnectionError(`cannot reach the node at ${this.url}: ${why}`);
    }
    const text = await res.text().catch(() => "");
    let body: { result?: T; error?: { code?: number; message?: string; data?: unknown } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new ConnectionError(`${this.url} did not answer JSON-RPC (HTTP ${res.status})`);
    }
    if (body.error) throw new RpcError(body.error.message ?? "JSON-RPC error", body.error.code, body.error.data);
    if (!res.ok) throw new ConnectionError(`${this.url} answered HTTP ${res.status}`);
    return body.result as T;
  }

  async chainId(): Promise<number> {
    return Number(BigInt(await this.call<string>("eth_chainId", [])));
  }

  async blockNumber(): Promise<number> {
    return Number(BigInt(await this.call<string>("eth_blockNumber", [])));
  }

  async getCode(address: string, block: number): Promise<string> {
    return this.call<string>("eth_getCode", [address, hex(block)]);
  }

  async ethCall(to: string, data: string, block: number): Promise<string> {
    return this.call<string>("eth_call", [{ to, data }, hex(block)]);
  }

  /**
   * Logs of `filter` in [from, to]. A node that refuses a wide range (too many results or blocks)
   * gets the range in halves, recursively.
   */
  async getLogs(filter: LogFilter, from: number, to: number): Promise<RpcLog[]> {
    if (from > to) return [];
    try {
      const logs = await this.call<RpcLog[]>("eth_getLogs", [
        { address: filter.address, topics: filter.topics, fromBlock: hex(from), toBlock: hex(to) },
      ]);
      return logs.filter((l) => !l.removed);
    } catch (err) {
      if (
        err instanceof RpcError &&
        from < to &&
        /range|limit|too many|exceed|size|results|timeout/i.test(err.message)
      ) {
        const mid = Math.floor((from + to) / 2);
        return [...(await this.getLogs(filter, from, mid)), ...(await this.getLogs(filter, mid + 1, to))];
      }
      throw err;
    }
  }

  /** Logs of `filter` in one block (by hash). */
  async getLogsAt(filter: LogFilter, blockHash: string): Promise<RpcLog[]> {
    const logs = await this.call<RpcLog[]>("eth_getLogs", [
      { address: filter.address, topics: filter.topics, blockHash },
    ]);
    return logs.filter((l) => !l.removed);
  }
}

export function hex(n: number | bigint): string {
  return "0x" + BigInt(n).toString(16);
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}
