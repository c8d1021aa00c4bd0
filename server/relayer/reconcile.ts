/**
 * Keeping the outbox true to the chain when the chain changes its mind. Two checks, run by the loop
 * at most every RECONCILE_MS (at once when the node's nonce count shows one is due) and at recovery:
 *
 * - Reorganisations. Every relayer transaction mined in the last REORG_WATCH_BLOCKS (+ the
 *   confirmations) blocks has its receipt looked up again. One without a receipt any more was taken
 *   back with its block: it is open again (state sent, not broadcast) and the requests it settled
 *   are `sent` again with their `reorgs` count raised, so no operation says mined with a
 *   transaction that no longer exists, and the ids its events named (a sale id) are not served from
 *   a receipt that is gone. The loop then sends its signed version again, or — when another
 *   transaction took its nonce on the new branch — resolves its requests by their forwarder nonces
 *   (requeued and re-signed when they never ran: settler.ts). A receipt in another block only moves
 *   the block number.
 * - Nonce gaps (nonces.ts nonceGaps). Nonces below one of our open transactions that nobody uses
 *   hold it back for ever on the node: each is filled with a transfer of nothing to the relayer
 *   itself. Nonces handed out above every open transaction and never used are given back to the
 *   allocator. A gap must be seen on two checks in a row before anything is done (a broadcast may
 *   be on its way).
 */
import { getAddress, type Hex } from "viem";
import { nonceGaps } from "./nonces";
import type { RelayerParts } from "./parts";
import { initialFees } from "./pricing";
import type { Settler } from "./settler";
import { signRelayerTransaction } from "./txsign";

/** Mined transactions are looked at again while they are within this many blocks of the head (+ confirmations). */
export const REORG_WATCH_BLOCKS = 64;
/** The checks run at most this often, unless the nonce count says one is due. */
export const RECONCILE_MS = 1_000;
/** Gas of a transfer of nothing (a filler of a nonce gap). */
const FILLER_GAS = 21_000n;

export type Reconciler = ReturnType<typeof createReconciler>;

export function createReconciler(parts: RelayerParts, settler: Pick<Settler, "forget">) {
  const { store, chain, log, opts, relayerAddress } = parts;
  let lastRun = 0;
  /** The gap nonces of the previous check. */
  let suspected = new Set<number>();

  /** Reopens the transactions a reorganisation took back; returns how many. */
  async function reorgs(): Promise<number> {
    const head = await chain.blockNumber();
    const recent = store.minedSince(relayerAddress, head - REORG_WATCH_BLOCKS - opts.confirmations);
    // Transactions recorded above the head: the chain went back below them (evm_revert, a deep reorg).
    const receipts = await Promise.all(recent.map((tx) => chain.receipt(tx.mined_hash!)));
    let reopened = 0;
    recent.forEach((tx, i) => {
      const receipt = receipts[i];
      if (receipt === null || receipt.blockNumber !== tx.block_number) settler.forget(tx.mined_hash!);
      if (receipt === null) {
        const ids = store.reopenTx(tx.id);
        reopened++;
        log.warn(
          {
            txId: tx.id,
            nonce: tx.nonce,
            txHash: tx.mined_hash,
            blockNumber: tx.block_number,
            requests: ids.length,
            ids,
          },
          "relayer transaction taken back by a chain reorganisation: sent again",
        );
      } else if (receipt.blockNumber !== tx.block_number) {
        store.movedTx(tx.id, receipt.hash, receipt.blockNumber);
        log.info(
          { txId: tx.id, txHash: receipt.hash, from: tx.block_number, to: receipt.blockNumber },
          "relayer transaction mined again in another block after a reorganisation",
        );
      }
    });
    return reopened;
  }

  async function fill(nonce: number): Promise<void> {
    const [{ fees, blockNumber }, context] = await Promise.all([chain.currentPrices(), chain.forwarderContext()]);
    const fields = initialFees(fees);
    const to = getAddress(relayerAddress) as Hex;
    const signed = await signRelayerTransaction(parts.privateKey, {
      ...fields,
      chainId: context.chainId,
      nonce,
      to,
      data: "0x",
      value: 0n,
      gasLimit: FILLER_GAS,
    });
    const txId = store.recordFiller({
      relayer: relayerAddress,
      nonce,
      gasLimit: FILLER_GAS,
      fromBlock: blockNumber,
      attempt: {
        ...signed,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        gasPrice: fields.type === 0 ? fees.gasPrice : null,
      },
    });
    log.warn({ txId, nonce, txHash: signed.hash }, "relayer nonce gap below open transactions: filled");
    // Broadcast by the loop's next round (an open transaction not broadcast yet).
  }

  async function gaps(): Promise<void> {
    const pending = await chain.accountNonce("pending");
    const open = store.openTxs(relayerAddress).map((tx) => tx.nonce);
    const next = store.nextNonce(relayerAddress);
    const found = nonceGaps(pending, open, next);
    const seen = suspected;
    suspected = new Set(found.fill);
    if (found.lowerTo !== undefined) {
      store.setNextNonce(relayerAddress, found.lowerTo);
      log.warn({ from: next, to: found.lowerTo, pending }, "relayer nonces handed out but never used: given back");
    }
    for (const nonce of found.fill) if (seen.has(nonce)) await fill(nonce);
  }

  return {
    /** Runs both checks when RECONCILE_MS has passed, or now when `due`. Returns the transactions reopened. */
    async run(due = false): Promise<number> {
      if (!due && Date.now() - lastRun < RECONCILE_MS) return 0;
      lastRun = Date.now();
      // A node without the contracts is another chain (state lost, a wrong RPC_URL), not a
      // reorganisation of ours: sending our transactions there again, or handing out its nonces,
      // would spend the relayer's account on that chain for nothing.
      if (!(await chain.forwarderDeployed())) return 0;
      const reopened = await reorgs();
      await gaps();
      return reopened;
    },
  };
}
