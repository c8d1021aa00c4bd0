/**
 * The states of the relayer, named as an operator reads them, and the pure rules between them.
 *
 * A request (outbox_requests.state, and `state` in the API's operation status):
 *   queued → sent → mined | failed, and sent → queued again when its transaction could not carry
 *   it (requeued; custodial requests are then re-signed with a fresh forwarder nonce).
 * Its stage (`stage` in the operation status) is the same with one later step: a mined request is
 * `confirmed` once its block has `confirmations` blocks on top (CONFIRMATIONS, the depth at which
 * the index takes a block too; 0 makes a mined request confirmed at once). `state` stays `mined`
 * then: the API's clients wait for `mined`, and a deeper depth must not make them wait longer.
 *
 * A relayer transaction (relayer_txs.state): sent → mined (a receipt of one of its versions) |
 * dropped (its nonce went to another transaction, or the node refused its first version for good).
 * Each signed version of it (relayer_tx_attempts): sent while it is the latest, replaced once a
 * fee-bumped version supersedes it, mined if it is the one the chain took, dropped with its
 * transaction.
 */

/** A request's state as stored and as the API reports it. */
export type RequestState = "queued" | "sent" | "mined" | "failed";
/** A request's stage: its state, with `confirmed` after `mined` at the configured depth. */
export type RequestStage = RequestState | "confirmed";
/** A relayer transaction's state (all its versions share one relayer nonce). */
export type TxState = "sent" | "mined" | "dropped";
/** A signed version of a relayer transaction. */
export type VersionState = "sent" | "replaced" | "mined" | "dropped";

/** Settled requests do not change any more; waitFor returns on them. */
export function isSettled(state: RequestState): state is "mined" | "failed" {
  return state === "mined" || state === "failed";
}

/**
 * The stage of a request: `confirmed` when it is mined in a block at most head − depth (the rule
 * of the index: a block is taken when head − confirmations has reached it). An unknown head leaves
 * a mined request mined, unless the depth is 0.
 */
export function stageOf(
  state: RequestState,
  blockNumber: number | null,
  head: number | undefined,
  depth: number,
): RequestStage {
  if (state !== "mined" || blockNumber === null) return state;
  if (depth === 0) return "confirmed";
  return head !== undefined && blockNumber <= head - depth ? "confirmed" : "mined";
}

/**
 * The state of each signed version (oldest first) of a relayer transaction: in a mined one, the
 * versions before the mined one were replaced and those after it (replacements that lost) dropped.
 */
export function versionStates(hashes: string[], tx: { state: TxState; minedHash: string | null }): VersionState[] {
  const minedAt = tx.state === "mined" ? hashes.indexOf(tx.minedHash ?? "") : -1;
  return hashes.map((_, i) => {
    if (tx.state === "dropped") return "dropped";
    if (tx.state === "mined") return i === minedAt ? "mined" : i < minedAt ? "replaced" : "dropped";
    return i < hashes.length - 1 ? "replaced" : "sent";
  });
}
