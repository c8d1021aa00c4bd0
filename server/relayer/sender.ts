/**
 * Sending the next batch: the queue read, the batch chosen (batching.ts) with each signer's next
 * forwarder nonce (nonces.ts), custodial requests signed by custody now with those nonces, one
 * executeBatch(requests, refundReceiver = relayer) signed with the node's fees (pricing.ts) at the
 * relayer's next nonce — taken in the same SQLite transaction that records it and moves its
 * requests to 'sent', before anything is broadcast.
 */
import { forwarderAbi } from "../chain/abis.generated";
import { encodeCall } from "../chain/calldata";
import { selectBatch } from "./batching";
import type { ForwarderContext } from "./chain";
import type { Broadcaster } from "./broadcaster";
import { describeError } from "./nodeErrors";
import { nextForwarderNonces } from "./nonces";
import type { RequestRow } from "./outbox";
import type { RelayerParts } from "./parts";
import { initialFees } from "./pricing";
import { signRelayerTransaction, type RelayerTxFields } from "./txsign";
import { FORWARD_REQUEST_TYPES } from "./types";

/** A request of the batch with its forwarder nonce, deadline and signature. */
interface Signed {
  row: RequestRow;
  nonce: number;
  deadline: number;
  signature: string;
}

type Signing = Signed | { row: RequestRow; nonce: number; failure: string };

export type Sender = ReturnType<typeof createSender>;

export function createSender(parts: RelayerParts, broadcaster: Broadcaster) {
  const { store, chain, log, opts, relayerAddress } = parts;

  /** Sends one batch of queued requests. Returns false when there was nothing to send. */
  async function sendNext(): Promise<boolean> {
    const rows = store.queued(opts.maxBatch * 4);
    if (rows.length === 0) return false;
    const context = await chain.forwarderContext();
    const chainNonces = await chain.forwarderNonces([...new Set(rows.map((r) => r.signer))]);
    // The chain's clock, not the host's: the forwarder checks deadlines against block.timestamp.
    const nowSec = await chain.now();
    const { picked, terminal, gasLimit } = selectBatch({
      rows,
      chainNonces,
      nextNonces: nextForwarderNonces(chainNonces, (s) => store.maxSentNonce(s)),
      maxBatch: opts.maxBatch,
      nowSec,
    });
    for (const t of terminal) store.settle(t);
    if (terminal.length > 0) parts.settled(terminal.map((t) => t.id));
    if (picked.length === 0) return terminal.length > 0;

    const signed = await signAll(picked, context, nowSec + opts.requestTtlSeconds);
    const failures = signed.filter((s) => "failure" in s);
    if (failures.length > 0) {
      // Nothing was recorded yet, so the nonces assigned above are simply not used.
      for (const f of failures) {
        store.settle({ id: f.row.id, state: "failed", error: { code: "signing_failed", message: f.failure } });
        log.warn({ id: f.row.id, userId: f.row.user_id, reason: f.failure }, "relay request not signed");
      }
      parts.settled(failures.map((f) => f.row.id));
      return true;
    }
    return send(signed as Signed[], gasLimit, context);
  }

  /** Member-signed requests keep their signature; custody signs the others now, with `deadline`. */
  function signAll(picked: { row: RequestRow; nonce: number }[], context: ForwarderContext, deadline: number) {
    return Promise.all(
      picked.map(async ({ row, nonce }): Promise<Signing> => {
        if (row.custodial === 0) return { row, nonce, deadline: row.deadline!, signature: row.signature! };
        const message = {
          from: row.signer,
          to: row.target,
          value: BigInt(row.value),
          gas: BigInt(row.gas),
          nonce: BigInt(nonce),
          deadline: BigInt(deadline),
          data: row.data,
        };
        try {
          const signature = await parts.signTypedData(
            row.user_id,
            row.signer,
            context.domain,
            FORWARD_REQUEST_TYPES,
            message,
          );
          return { row, nonce, deadline, signature };
        } catch (err) {
          return { row, nonce, failure: `custody could not sign: ${describeError(err).message}` };
        }
      }),
    );
  }

  /** The relayer's next nonce: the allocator's, or the node's pending count the first time. */
  async function relayerNonce(): Promise<number> {
    let nonce = store.nextNonce(relayerAddress);
    if (nonce === undefined) {
      nonce = await chain.accountNonce("pending");
      store.setNextNonce(relayerAddress, nonce);
    }
    return nonce;
  }

  async function send(batch: Signed[], gasLimit: bigint, context: ForwarderContext): Promise<boolean> {
    const requests = batch.map((s) => ({
      from: s.row.signer,
      to: s.row.target,
      value: BigInt(s.row.value),
      gas: BigInt(s.row.gas),
      deadline: BigInt(s.deadline),
      data: s.row.data,
      signature: s.signature,
    }));
    const value = requests.reduce((sum, r) => sum + r.value, 0n);
    const data = encodeCall(forwarderAbi, "executeBatch", [requests, relayerAddress]);
    const { fees, blockNumber: fromBlock } = await chain.currentPrices();
    const nonce = await relayerNonce();
    const fields = initialFees(fees);
    const tx: RelayerTxFields = {
      ...fields,
      chainId: context.chainId,
      nonce,
      to: context.address,
      data,
      value,
      gasLimit,
    };
    const { raw, hash } = await signRelayerTransaction(parts.privateKey, tx);
    const txId = store.recordSent({
      relayer: relayerAddress,
      nonce,
      gasLimit,
      value,
      fromBlock,
      attempt: {
        hash,
        raw,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        gasPrice: fields.type === 0 ? fees.gasPrice : null,
      },
      requests: batch.map((s) => ({ id: s.row.id, nonce: s.nonce, deadline: s.deadline, signature: s.signature })),
    });
    if (txId === undefined) {
      log.warn({ nonce }, "relayer nonce taken meanwhile by another process: batch not sent");
      return false;
    }
    const ids = batch.map((s) => s.row.id);
    log.info(
      { txId, txHash: hash, nonce, requests: batch.length, gasLimit: gasLimit.toString(), ids },
      "relayer transaction sent",
    );
    await broadcaster.broadcast({ id: txId, nonce }, raw, true);
    return true;
  }

  return { sendNext };
}
