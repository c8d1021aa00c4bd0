/**
 * Batching, pure: which queued requests go in the next executeBatch, at which forwarder nonce, with
 * which gas limit; and which queued requests can never run and fail now.
 *
 * In queue order, up to maxBatch requests, while the transaction's gas (TX_OVERHEAD plus each
 * request's requestCost) stays within TX_GAS_CAP — the first request that does not fit ends the
 * batch, so the queue order holds. Per signer, nonces go up by one in queue order:
 * - a custodial request (signed at send time) takes its signer's next nonce, but waits while the
 *   same signer has member-signed requests queued (those hold nonces already: theirs go first);
 * - a member-signed request runs only at its signed nonce: one below the chain's was used by
 *   another request (fails nonce_used), one whose deadline is too close fails expired, and one
 *   above the next nonce blocks its signer's later requests until the earlier one is sent.
 */
import type { Settlement } from "./outbox";
import { TX_GAS_CAP, TX_OVERHEAD, hexBytes, requestCost, tooCloseToDeadline } from "./limits";

/** What batching reads of a queued request. */
export interface QueuedRequest {
  id: string;
  signer: string;
  /** 1: custody signs at send time; 0: signed by the member, with its nonce and deadline. */
  custodial: number;
  nonce: number | null;
  deadline: number | null;
  gas: string;
  data: string;
}

export interface BatchInput<R extends QueuedRequest> {
  /** Queued requests, in queue order. */
  rows: readonly R[];
  /** forwarder.nonces(signer) on chain, for every signer of `rows`. */
  chainNonces: ReadonlyMap<string, number>;
  /** The next forwarder nonce of every signer of `rows` (nextForwarderNonces). */
  nextNonces: ReadonlyMap<string, number>;
  maxBatch: number;
  nowSec: number;
}

export interface BatchPlan<R extends QueuedRequest> {
  /** The requests of the next transaction, in order, each with the forwarder nonce it runs at. */
  picked: { row: R; nonce: number }[];
  /** Member-signed requests that can never run: failed now. */
  terminal: Settlement[];
  /** The transaction's gas limit. */
  gasLimit: bigint;
}

export function selectBatch<R extends QueuedRequest>(input: BatchInput<R>): BatchPlan<R> {
  const { rows, chainNonces, maxBatch, nowSec } = input;
  const nextNonce = new Map(input.nextNonces);
  const memberSigned = new Set(rows.filter((r) => r.custodial === 0).map((r) => r.signer));
  const blocked = new Set<string>();
  const picked: { row: R; nonce: number }[] = [];
  const terminal: Settlement[] = [];
  let gasLimit = TX_OVERHEAD;
  for (const row of rows) {
    if (picked.length >= maxBatch) break;
    if (blocked.has(row.signer)) continue;
    const n = nextNonce.get(row.signer)!;
    if (row.custodial === 1) {
      if (memberSigned.has(row.signer)) continue; // the member's own requests first
    } else if (row.nonce! < chainNonces.get(row.signer)!) {
      terminal.push(failed(row.id, "nonce_used", "its forwarder nonce was used by another request"));
      continue;
    } else if (tooCloseToDeadline(row.deadline, nowSec)) {
      terminal.push(failed(row.id, "expired", "the signed request expired"));
      continue;
    } else if (row.nonce !== n) {
      blocked.add(row.signer); // waits for an earlier request of the same signer
      continue;
    }
    const cost = requestCost(BigInt(row.gas), hexBytes(row.data));
    if (gasLimit + cost > TX_GAS_CAP) break;
    gasLimit += cost;
    nextNonce.set(row.signer, n + 1);
    picked.push({ row, nonce: n });
  }
  return { picked, terminal, gasLimit };
}

function failed(id: string, code: string, message: string): Settlement {
  return { id, state: "failed", error: { code, message } };
}
