/**
 * The numbers admission, batching and settlement share: what one request costs inside an
 * executeBatch transaction, the cap on a transaction's gas, and how close to its deadline a signed
 * request is no longer worth sending.
 */

/** EIP-7825: no transaction may ask for more gas. */
export const TX_GAS_CAP = 1n << 24n;
/** The transaction itself and executeBatch's own work around the requests. */
export const TX_OVERHEAD = 60_000n;
/** Signature recovery, trust check, nonce write, event and loop per request (measured ~35k). */
const PER_REQUEST_OVERHEAD = 60_000n;
/** Calldata priced at the EIP-7623 floor for non-zero bytes, an upper bound. */
const CALLDATA_GAS_PER_BYTE = 40n;
/** Fixed ABI words of one ForwardRequestData in executeBatch (offsets, fields, signature). */
const REQUEST_ABI_BYTES = 480;
/** A signed request whose deadline is this close (s) may expire before its transaction is mined. */
export const DEADLINE_SLACK_SECONDS = 30;

/**
 * Gas one request may take in executeBatch: its own gas plus the 1/64 the forwarder must keep back
 * (EIP-150) and the overheads, calldata counted at `dataBytes`.
 */
export function requestCost(gas: bigint, dataBytes: number): bigint {
  return gas + gas / 63n + 1n + PER_REQUEST_OVERHEAD + CALLDATA_GAS_PER_BYTE * BigInt(dataBytes + REQUEST_ABI_BYTES);
}

/** Bytes of 0x-prefixed hex (checked elsewhere). */
export function hexBytes(hex: string): number {
  return (hex.length - 2) / 2;
}

/** True when a signed request's deadline (s) leaves too little time at `nowSec`. */
export function tooCloseToDeadline(deadline: bigint | number | null, nowSec: number): boolean {
  return BigInt(deadline ?? 0) <= BigInt(nowSec + DEADLINE_SLACK_SECONDS);
}
