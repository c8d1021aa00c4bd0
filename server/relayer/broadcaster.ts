/**
 * Putting signed versions of relayer transactions in front of the node: the first broadcast and
 * its failures (replacement.ts says what each means), a replacement at the same nonce with the fees
 * of pricing.ts, and sending again a pending transaction the node forgot.
 */
import { parseTransaction, type Hex } from "viem";
import { describeError, nodeAnswered } from "./nodeErrors";
import { releasesNonce } from "./nonces";
import type { TxRow } from "./outbox";
import type { RelayerParts } from "./parts";
import { replacementFees } from "./pricing";
import { broadcastFailure, shouldLookInPool } from "./replacement";
import { signRelayerTransaction, type RelayerTxFields } from "./txsign";

/** After the node refused a first version for good (e.g. funds), sending pauses this long. */
const REFUSAL_PAUSE_MS = 5_000;
/** Pending transactions whose last look in the pool is remembered. */
const POOL_LOOKS = 256;

export type Broadcaster = ReturnType<typeof createBroadcaster>;

export function createBroadcaster(parts: RelayerParts) {
  const { store, chain, log, relayerAddress } = parts;
  /** When each pending transaction was last looked for in the node's pool, by relayer transaction id. */
  const poolLooks = new Map<number, number>();
  let pauseUntil = 0;

  /** Broadcasts a signed version. A first version the node refuses for good is dropped and its nonce released. */
  async function broadcast(tx: { id: number; nonce: number }, raw: string, firstVersion: boolean): Promise<void> {
    let failure: unknown;
    try {
      await chain.sendRaw(raw);
      store.setBroadcast(tx.id, true);
      return;
    } catch (err) {
      failure = err;
    }
    const { code, message } = describeError(failure);
    const meaning = broadcastFailure({ answered: nodeAnswered(failure), code, message, firstVersion });
    if (meaning === "retry") {
      store.setBroadcast(tx.id, false); // no answer: retried on the next round
      log.warn({ txId: tx.id, nonce: tx.nonce, code, message }, "broadcast failed: will retry");
    } else if (meaning === "accepted") {
      store.setBroadcast(tx.id, true);
    } else if (meaning === "kept") {
      store.setBroadcast(tx.id, true);
      log.warn({ txId: tx.id, nonce: tx.nonce, code, message }, "node refused a relayer transaction version");
    } else {
      // Refused for good (funds, fee cap, ...): the nonce was not used. Release it and requeue.
      const rows = store.requestsOfTx(tx.id);
      store.settleTx(
        tx.id,
        "dropped",
        [],
        rows.map((r) => r.id),
        false,
      );
      if (releasesNonce(store.nextNonce(relayerAddress), tx.nonce)) store.setNextNonce(relayerAddress, tx.nonce);
      pauseUntil = Date.now() + REFUSAL_PAUSE_MS;
      log.warn(
        { txId: tx.id, nonce: tx.nonce, code, message, requests: rows.length },
        "node refused a relayer transaction: requests requeued",
      );
    }
  }

  /** Sends the latest version again (the node never took it). */
  async function resend(tx: TxRow): Promise<void> {
    await broadcast(tx, store.attempts(tx.id).at(-1)!.raw, false);
  }

  /** Signs a version with higher fees at the same nonce, records it, and broadcasts it. */
  async function replace(tx: TxRow): Promise<void> {
    const last = store.attempts(tx.id).at(-1)!;
    const prev = parseTransaction(last.raw as Hex);
    const fees = replacementFees(
      {
        type: prev.type === "eip1559" ? 2 : 0,
        maxFeePerGas: prev.maxFeePerGas ?? null,
        maxPriorityFeePerGas: prev.maxPriorityFeePerGas ?? null,
        gasPrice: prev.gasPrice ?? null,
      },
      await chain.feeData(),
    );
    const next: RelayerTxFields = {
      chainId: BigInt(prev.chainId!),
      nonce: prev.nonce ?? 0,
      to: prev.to!,
      data: prev.data ?? "0x",
      value: prev.value ?? 0n,
      gasLimit: prev.gas!,
      ...fees,
    };
    const { raw, hash } = await signRelayerTransaction(parts.privateKey, next);
    store.recordReplacement(tx.id, {
      hash,
      raw,
      maxFeePerGas: next.maxFeePerGas ?? undefined,
      maxPriorityFeePerGas: next.maxPriorityFeePerGas ?? undefined,
      gasPrice: next.gasPrice ?? undefined,
    });
    log.info(
      {
        txId: tx.id,
        nonce: tx.nonce,
        txHash: hash,
        replaces: last.hash,
        maxFeePerGas: next.maxFeePerGas?.toString(),
        gasPrice: next.gasPrice?.toString(),
      },
      "relayer transaction not mined in time: replaced with higher fees",
    );
    await broadcast(tx, raw, false);
  }

  /**
   * A node that restarted (or evicted it) no longer knows a pending transaction: send the signed
   * version again at once instead of waiting for the replacement timer.
   */
  async function resendIfForgotten(tx: TxRow): Promise<void> {
    const now = Date.now();
    if (!shouldLookInPool(now, tx.last_sent_at, poolLooks.get(tx.id))) return;
    poolLooks.set(tx.id, now);
    if (poolLooks.size > POOL_LOOKS) poolLooks.delete(poolLooks.keys().next().value!);
    const latest = store.attempts(tx.id).at(-1)!;
    if (await chain.knows(latest.hash)) return;
    log.warn(
      { txId: tx.id, nonce: tx.nonce, txHash: latest.hash },
      "the node forgot a pending relayer transaction: sent again",
    );
    await broadcast(tx, latest.raw, false);
  }

  return { broadcast, resend, replace, resendIfForgotten, paused: () => Date.now() < pauseUntil };
}
