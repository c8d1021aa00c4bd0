/**
 * JSON-RPC calls of the relayer, bounded in time: any failure but a revert means the chain is
 * unavailable (RelayerUnavailableError 'chain_unavailable'); a revert passes through for the caller
 * to decode.
 */
import { RelayerUnavailableError } from "./errors";
import { describeError, revertDataOf } from "./nodeErrors";

export type Rpc = <T>(what: string, call: Promise<T>) => Promise<T>;

export interface RelayerRpc {
  /** The call within the timeout, its failures as chain_unavailable (reverts excepted). */
  rpc: Rpc;
  /** The call within the timeout, its failures as they are (broadcast interprets them). */
  withTimeout: Rpc;
}

export function createRpc(timeoutMs: number): RelayerRpc {
  async function withTimeout<T>(what: string, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RelayerUnavailableError("chain_unavailable", `${what}: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function rpc<T>(what: string, call: Promise<T>): Promise<T> {
    try {
      return await withTimeout(what, call);
    } catch (err) {
      if (err instanceof RelayerUnavailableError || revertDataOf(err).reverted) throw err;
      throw new RelayerUnavailableError("chain_unavailable", `${what}: ${describeError(err).message}`);
    }
  }

  return { rpc, withTimeout };
}
