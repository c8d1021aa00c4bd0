/**
 * Settlement, pure: from a mined relayer transaction's receipt (its ExecutedForwardRequest events)
 * to each request's outcome, and the retry-or-fail decisions for requests that did not run.
 *
 * A request of a successful transaction with its event ran: mined if its call succeeded, failed
 * 'reverted' otherwise (the reason is found by replaying the call: settler.ts). A reverted
 * transaction (status 0) executed nothing: its requests are retried. A request without an event
 * (skipped by the forwarder: expired, or its nonce was not current), or every request of a
 * transaction none of whose versions was mined, is resolved by its forwarder nonce: unused → it
 * never ran and is retried; used → its ExecutedForwardRequest(signer, nonce) log says where and
 * whether it ran (someone may have relayed the signed request from the mempool).
 */
import type { Settlement } from "./outbox";
import { tooCloseToDeadline } from "./limits";

/** The fields of one ExecutedForwardRequest(signer, nonce, success) event. */
export interface ExecutedEvent {
  signer: string;
  nonce: bigint;
  success: boolean;
}

/** A forward request found executed in a receipt, with the logs its call emitted. */
export interface Execution<L> {
  success: boolean;
  logs: L[];
}

/** The key of a request in a receipt's executions: its signer (checksummed) and forwarder nonce. */
export function executionKey(signer: string, nonce: bigint | number): string {
  return `${signer}:${nonce}`;
}

/**
 * The forward requests a receipt's logs executed, by executionKey, with whether their call
 * succeeded and the logs it emitted (those between the previous request's event and its own).
 * `executed` decodes the forwarder's ExecutedForwardRequest logs and answers undefined for others.
 */
export function executionsIn<L>(
  logs: readonly L[],
  executed: (log: L) => ExecutedEvent | undefined,
): Map<string, Execution<L>> {
  const out = new Map<string, Execution<L>>();
  let start = 0;
  for (let i = 0; i < logs.length; i++) {
    const event = executed(logs[i]);
    if (event === undefined) continue;
    out.set(executionKey(event.signer, event.nonce), { success: event.success, logs: logs.slice(start, i) });
    start = i + 1;
  }
  return out;
}

/** What settlement reads of a request. */
export interface SentRequest {
  id: string;
  signer: string;
  nonce: number | null;
  /** 1: custodial (re-signed when retried); 0: member-signed (its signature kept while valid). */
  custodial: number;
  deadline: number | null;
  /** Times it was requeued already. */
  attempts: number;
}

/** Where a request ran. */
export interface Inclusion {
  txHash: string;
  blockNumber: number;
}

export type Verdict =
  | ({ kind: "mined" } & Inclusion)
  /** Ran and its call reverted: failed 'reverted', the reason found by replaying the call. */
  | ({ kind: "reverted" } & Inclusion)
  /** Did not run: requeued, unless it cannot run any more (retryOrFail). */
  | { kind: "retry" }
  /** No event of its own in the mined transaction: resolved by its forwarder nonce. */
  | { kind: "unexecuted" }
  /** Its forwarder nonce was used, but no execution log shows it: failed, never retried. */
  | { kind: "indeterminate" };

/**
 * The verdict on each request of a relayer transaction, from the receipt of whichever version was
 * mined (null: none was, another transaction took the nonce) and its executions.
 */
export function receiptVerdicts<L>(
  rows: readonly SentRequest[],
  receipt: { hash: string; blockNumber: number; status: number | null } | null,
  executions: ReadonlyMap<string, Execution<L>> | undefined,
): Verdict[] {
  if (receipt === null) return rows.map(() => ({ kind: "unexecuted" }));
  if (receipt.status !== 1) return rows.map(() => ({ kind: "retry" }));
  const at = { txHash: receipt.hash, blockNumber: receipt.blockNumber };
  return rows.map((row) => {
    const success = executions?.get(executionKey(row.signer, row.nonce ?? -1))?.success;
    if (success === undefined) return { kind: "unexecuted" };
    return success ? { kind: "mined", ...at } : { kind: "reverted", ...at };
  });
}

/**
 * A request that did not run: requeued, unless it was tried maxAttempts times already
 * ('not_executed') or it was signed by the member and its deadline is too close ('expired').
 */
export function retryOrFail(row: SentRequest, maxAttempts: number, nowSec: number): "requeue" | Settlement {
  if (row.attempts + 1 >= maxAttempts) {
    return {
      id: row.id,
      state: "failed",
      error: { code: "not_executed", message: `not executed after ${row.attempts + 1} attempts` },
    };
  }
  if (row.custodial === 0 && tooCloseToDeadline(row.deadline, nowSec)) {
    return { id: row.id, state: "failed", error: { code: "expired", message: "the signed request expired" } };
  }
  return "requeue";
}

/**
 * A request without an event of its own whose forwarder nonce the chain has passed, by the
 * ExecutedForwardRequest log found for it: mined or reverted where it ran, or indeterminate when no
 * log shows it (it cannot be retried safely). (A nonce not passed: it never ran, retryOrFail.)
 */
export function executionVerdict(ran: ({ success: boolean } & Inclusion) | undefined): Verdict {
  if (ran === undefined) return { kind: "indeterminate" };
  const at = { txHash: ran.txHash, blockNumber: ran.blockNumber };
  return ran.success ? { kind: "mined", ...at } : { kind: "reverted", ...at };
}

/** The settlement of a verdict that needs nothing more: mined, or failed indeterminate. */
export function settlementOf(id: string, verdict: Verdict): Settlement | undefined {
  if (verdict.kind === "mined") {
    return { id, state: "mined", txHash: verdict.txHash, blockNumber: verdict.blockNumber };
  }
  if (verdict.kind === "indeterminate") {
    return {
      id,
      state: "failed",
      error: { code: "indeterminate", message: "its nonce was used but no execution log was found" },
    };
  }
  return undefined;
}
