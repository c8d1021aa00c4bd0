/**
 * Errors of the relayer (the decoding of revert data against every CoopTrace ABI is in nodeErrors.ts:
 * this module loads nothing, so the pure modules that reject requests stay light).
 *
 * A rejected request (it would revert, or it is malformed) is the caller's fault: the API maps it
 * to 4xx with the decoded custom error. A refused request is one the relayer will not pay for (off
 * the allow-list, or over the caller's daily gas budget). An unavailable relayer (no funds, no chain, no contracts)
 * is ours: the API maps it to 503 with the code.
 */

/** A custom error decoded from revert data. Arguments are JSON-safe: integers as decimal strings. */
export interface DecodedError {
  name: string;
  signature: string;
  args: unknown[];
}

export type RejectionCode =
  | "would_revert"
  | "invalid_request"
  | "invalid_signature"
  | "untrusted_target"
  | "gas_too_low"
  | "gas_too_high"
  | "expired";

export class RelayRejectedError extends Error {
  override readonly name = "RelayRejectedError";
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly decoded?: DecodedError,
  ) {
    super(message);
  }
}

/**
 * Why the relayer will not pay for a request that may be perfectly valid on-chain:
 * - relay_not_allowed: not one of CoopTrace's contracts, a view function, or a function the caller's
 *   role may not call (policy.ts) — the API answers 403;
 * - gas_budget_exceeded: the caller's gas for the current UTC day is spent — 429 with Retry-After.
 */
export type RefusalCode = "relay_not_allowed" | "gas_budget_exceeded";

/** Which rule of the allow-list refused a request (policy.ts). */
export type RefusalReason =
  | "unknown_role"
  | "foreign_contract"
  | "no_function"
  | "view_function"
  | "function_not_allowed"
  | "value_not_allowed"
  | "daily_budget";

export class RelayRefusedError extends Error {
  override readonly name = "RelayRefusedError";
  constructor(
    readonly code: RefusalCode,
    readonly reason: RefusalReason,
    message: string,
    /** Seconds until the refusal may end (the next UTC day for the budget); undefined: it will not. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export type UnavailableCode = "relayer_low_balance" | "chain_unavailable" | "contracts_missing";

export class RelayerUnavailableError extends Error {
  override readonly name = "RelayerUnavailableError";
  constructor(
    readonly code: UnavailableCode,
    message: string,
  ) {
    super(message);
  }
}
