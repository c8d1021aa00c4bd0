/**
 * Whether the pages may present the index as checked on-chain right now: the node answers and the
 * index follows it within the lag bound. The answer is shared for a short time, so a busy page costs
 * the node a few calls per second at most; a failure is remembered for less time than a success.
 */
import type { NetworkService } from "../services/network";

export type ChainCheck =
  | { ok: true; chainId: number; head: number; indexedBlock: number; checkedAt: number }
  | { ok: false; reason: string; checkedAt: number };

export interface ChainCheckOptions {
  /** The node's head and the index's status. */
  network: Pick<NetworkService, "chainId" | "head" | "indexStatus">;
  /** Blocks the index may trail the head (after confirmations) and still be trusted. */
  maxLag: number;
  /** How long a good answer is reused. Default 2 s. */
  ttlMs?: number;
  /** How long a bad answer is reused. Default 500 ms. */
  failureTtlMs?: number;
  /** A node that does not answer within this is treated as unreachable. Default 3 s. */
  timeoutMs?: number;
}

export function createChainCheck(o: ChainCheckOptions): () => Promise<ChainCheck> {
  const ttl = o.ttlMs ?? 2_000;
  const failureTtl = o.failureTtlMs ?? 500;
  const timeoutMs = o.timeoutMs ?? 3_000;
  let current: { at: number; promise: Promise<ChainCheck>; value?: ChainCheck } | undefined;

  async function run(): Promise<ChainCheck> {
    const checkedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      const [head, status] = await Promise.race([Promise.all([o.network.head(), o.network.indexStatus()]), timeout]);
      if (status.problem !== null) return { ok: false, reason: status.problem, checkedAt };
      if (status.lag < 0 || status.lag > o.maxLag)
        return { ok: false, reason: `the index is ${status.lag} blocks behind the chain`, checkedAt };
      return { ok: true, chainId: o.network.chainId, head, indexedBlock: status.lastBlock, checkedAt };
    } catch (err) {
      return { ok: false, reason: `chain unreachable: ${(err as Error)?.message ?? String(err)}`, checkedAt };
    } finally {
      clearTimeout(timer);
    }
  }

  return async () => {
    const now = Date.now();
    if (current !== undefined) {
      const { value } = current;
      if (value === undefined) return current.promise; // in flight: share it
      if (now - current.at < (value.ok ? ttl : failureTtl)) return value;
    }
    const entry: { at: number; promise: Promise<ChainCheck>; value?: ChainCheck } = { at: now, promise: run() };
    entry.promise.then((v) => (entry.value = v));
    current = entry;
    return entry.promise;
  };
}
