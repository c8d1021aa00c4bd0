/**
 * Whether the relayer makes progress, pure: GET /health reports a relayer that holds requests while
 * the chain moves on without them (a nonce the node holds back, a balance that cannot pay, a node
 * that refuses every version) — as opposed to a chain that does not mine, where waiting is right.
 */

export function stalled(s: {
  now: number;
  /** When the oldest queued or sent request was accepted (ms), or null. */
  oldestPending: number | null;
  /** When a request was last settled, and the head known then. */
  lastProgress: { at: number; head: number | undefined };
  head: number;
  stallAfterMs: number;
}): boolean {
  if (s.oldestPending === null || s.now - s.oldestPending < s.stallAfterMs) return false;
  if (s.now - s.lastProgress.at < s.stallAfterMs) return false;
  // A head that went back (a reorganisation) has moved too.
  return s.lastProgress.head === undefined || s.head !== s.lastProgress.head;
}
