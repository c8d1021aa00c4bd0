/**
 * Nonce allocation, pure. Two kinds of nonce: the forwarder nonce of each signer (a forward request
 * runs only at its signer's current one) and the relayer account's own (one per relayer
 * transaction, shared by its fee-bumped versions). The outbox stores what is held; these rules say
 * which nonce comes next.
 */

/**
 * The next forwarder nonce of a signer: the chain's, unless requests of ours already hold it or
 * later ones (then the one after the highest we hold).
 */
export function nextForwarderNonce(chainNonce: number, highestHeld: number | null): number {
  return Math.max(chainNonce, highestHeld === null ? 0 : highestHeld + 1);
}

/** The next forwarder nonce of each signer, from the chain's and the highest each holds. */
export function nextForwarderNonces(
  chainNonces: ReadonlyMap<string, number>,
  highestHeld: (signer: string) => number | null,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [signer, chainNonce] of chainNonces) out.set(signer, nextForwarderNonce(chainNonce, highestHeld(signer)));
  return out;
}

/**
 * The relayer's next nonce after recovery: the node's pending count adopts nonces used outside the
 * gateway; the last open transaction's + 1 keeps ours when the node has forgotten them.
 */
export function relayerNonceAfterRecovery(pendingCount: number, openNonces: readonly number[]): number {
  return Math.max(pendingCount, openNonces.length > 0 ? openNonces[openNonces.length - 1] + 1 : 0);
}

/**
 * Whether the allocator goes back to a dropped transaction's nonce: only when it was the last one
 * taken. Were a later transaction holding the next one, going back would hand that one out twice;
 * the gap left instead is closed by recovery (the node's pending count).
 */
export function releasesNonce(allocatorNext: number | undefined, droppedNonce: number): boolean {
  return allocatorNext === droppedNonce + 1;
}

/**
 * The relayer's nonces the node holds nothing at while a later one is ours: `pending` is the node's
 * pending count (it counts only nonces it can execute in a row), `open` the nonces of our open
 * transactions, `next` the allocator's. A gap below an open transaction holds it back for ever (a
 * transaction dropped by a reorganisation, or refused, after later ones were sent); it is filled.
 * Gaps above every open transaction are only nonces handed out and never used: the allocator goes
 * back to `lowerTo` instead.
 */
export function nonceGaps(
  pending: number,
  open: readonly number[],
  next: number | undefined,
): { fill: number[]; lowerTo?: number } {
  if (next === undefined || next <= pending) return { fill: [] };
  const held = new Set(open);
  const highestOpen = open.length > 0 ? Math.max(...open) : -1;
  const fill: number[] = [];
  for (let n = pending; n < Math.min(next, highestOpen); n++) if (!held.has(n)) fill.push(n);
  const floor = Math.max(pending, highestOpen + 1);
  return floor < next ? { fill, lowerTo: floor } : { fill };
}
