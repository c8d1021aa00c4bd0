/**
 * The replacement policy, pure: on each round, what to do with each relayer transaction still open
 * (settle it, wait for its receipt, send it again, replace it with higher fees, or look whether the
 * node still holds it), and what a node's refusal of a broadcast means.
 */

/** A pending relayer transaction is looked for in the node's pool at most this often. */
export const POOL_CHECK_MS = 2000;
/** How long "nonce used, no receipt of ours" must hold before the requests are resolved one by one. */
export const NONCE_USED_GRACE_MS = 3000;

export interface OpenTx {
  nonce: number;
  /** 1 once the node accepted the latest version. */
  broadcast: number;
  /** When the latest version was signed (ms): the replacement clock. */
  lastSentAt: number;
}

export type OpenTxStep =
  /** A receipt of one of its versions is in hand. */
  | "settle"
  /** The node counts its nonce as used, but no receipt of ours was in hand: ask again (nonceUsedStep). */
  | "nonce_used"
  /** The node never took the latest version: send it again. */
  | "broadcast"
  /** Not mined replaceAfterMs after the latest version: sign a replacement with higher fees. */
  | "replace"
  /** Pending: see whether the node forgot it (shouldLookInPool). */
  | "pending";

export function openTxStep(
  tx: OpenTx,
  round: { receiptInHand: boolean; minedCount: number; now: number; replaceAfterMs: number },
): OpenTxStep {
  if (round.receiptInHand) return "settle";
  if (tx.nonce < round.minedCount) return "nonce_used";
  if (tx.broadcast === 0) return "broadcast";
  if (round.now - tx.lastSentAt >= round.replaceAfterMs) return "replace";
  return "pending";
}

/**
 * The node counts a transaction's nonce as used and shows no receipt for any of its versions:
 * either another transaction took the nonce, or the node has not finished storing the block that
 * mined ours (anvil answers the new account nonce a moment before the block and its receipts, and a
 * forwarder nonce read then is still the old one). Concluding at once would re-sign requests that
 * did run: the answer must hold NONCE_USED_GRACE_MS first.
 * - start: first seen now (remember since when);
 * - wait: seen before, not for long enough;
 * - resolve: held long enough: the nonce went to another transaction.
 */
export function nonceUsedStep(since: number | undefined, now: number): "start" | "wait" | "resolve" {
  if (since === undefined) return "start";
  return now - since >= NONCE_USED_GRACE_MS ? "resolve" : "wait";
}

/**
 * Whether to ask the node if it still holds a pending transaction (a node that restarted, or evicted
 * it, has forgotten it: it is sent again at once instead of at the replacement): only once it has
 * been pending POOL_CHECK_MS, and at most every POOL_CHECK_MS.
 */
export function shouldLookInPool(now: number, lastSentAt: number, lastLookedAt: number | undefined): boolean {
  return now - lastSentAt >= POOL_CHECK_MS && now - (lastLookedAt ?? 0) >= POOL_CHECK_MS;
}

/**
 * What a failed eth_sendRawTransaction means for the version sent:
 * - retry: no answer from the node (it is sent again on the next round);
 * - accepted: the node has it already;
 * - kept: refused, but the transaction stays open — its nonce is used (settled once the chain shows
 *   it) or it is underpriced (replaced later), or it is a later version of one the node took;
 * - dropped: a first version refused for good (funds, fee cap, ...): its nonce was not used.
 */
export function broadcastFailure(failure: {
  answered: boolean;
  code: string | undefined;
  message: string;
  firstVersion: boolean;
}): "retry" | "accepted" | "kept" | "dropped" {
  const { code, firstVersion } = failure;
  const lasting = code === "NONCE_EXPIRED" || code === "REPLACEMENT_UNDERPRICED";
  if (!failure.answered && !lasting && code !== "INSUFFICIENT_FUNDS") return "retry";
  const lower = failure.message.toLowerCase();
  if (lower.includes("already known") || lower.includes("already imported") || lower.includes("known transaction")) {
    return "accepted";
  }
  if (!firstVersion || lasting) return "kept";
  return "dropped";
}
