/**
 * Admission: the checks on a request before it is queued that need no node — its fields, its gas
 * against the simulation's estimate and the transaction cap, a signed request's deadline, and the
 * daily gas budget's arithmetic. (Which calls the relayer pays for at all is policy.ts.) Pure: a
 * malformed request throws RelayRejectedError with the code the API answers with; the rest return
 * a decision.
 */
import { toAddress } from "../chain/address";
import { RelayRejectedError } from "./errors";
import { TX_GAS_CAP, TX_OVERHEAD, hexBytes, requestCost, tooCloseToDeadline } from "./limits";

/** A gas limit signed by the member may exceed the simulation's estimate by this share ... */
const GAS_MARGIN_NUM = 1n;
const GAS_MARGIN_DEN = 2n;
/** ... or by this much, whichever is more (a small call's estimate leaves little room otherwise). */
const GAS_MARGIN_MIN = 100_000n;
/** A deadline is a uint48 in the forward request. */
const DEADLINE_LIMIT = 1n << 48n;

/** The checksummed address, or invalid_request naming the field. */
export function checkedAddress(value: unknown, field: string): string {
  try {
    return toAddress(String(value));
  } catch {
    throw new RelayRejectedError("invalid_request", `${field} is not an address`);
  }
}

/** What every request needs: a user, calldata as hex bytes, a value that is not negative. */
export function checkCommon(userId: unknown, data: unknown, value: bigint): void {
  if (typeof userId !== "string" || userId === "") {
    throw new RelayRejectedError("invalid_request", "userId is required");
  }
  if (typeof data !== "string" || !/^0x[0-9a-fA-F]*$/.test(data) || data.length % 2 !== 0) {
    throw new RelayRejectedError("invalid_request", "data is not hex bytes");
  }
  if (value < 0n) throw new RelayRejectedError("invalid_request", "value is negative");
}

export interface SignedFields {
  from: string;
  to: string;
  value: bigint;
  gas: bigint;
  deadline: bigint;
}

/**
 * The fields of a request the member signed itself, checked in the order the API reports them:
 * addresses, integers, the common checks, a 65-byte signature, a uint48 deadline not past nor
 * within DEADLINE_SLACK_SECONDS of `nowSec` (0: the caller checks the deadline itself, against the
 * chain's clock once the node is asked).
 */
export function checkSignedRequest(
  userId: unknown,
  r: { from: unknown; to: unknown; value: unknown; gas: unknown; deadline: unknown; data: unknown; signature: unknown },
  nowSec: number,
): SignedFields {
  const from = checkedAddress(r.from, "from");
  const to = checkedAddress(r.to, "to");
  let value: bigint, gas: bigint, deadline: bigint;
  try {
    [value, gas, deadline] = [
      BigInt(r.value as bigint),
      BigInt(r.gas as bigint),
      BigInt(r.deadline as bigint | number),
    ];
  } catch {
    throw new RelayRejectedError("invalid_request", "value, gas and deadline must be integers");
  }
  checkCommon(userId, r.data, value);
  if (typeof r.signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(r.signature)) {
    throw new RelayRejectedError("invalid_request", "signature is not 65 bytes");
  }
  if (deadline >= DEADLINE_LIMIT) throw new RelayRejectedError("invalid_request", "deadline does not fit uint48");
  if (tooCloseToDeadline(deadline, nowSec)) {
    throw new RelayRejectedError("expired", "the request's deadline is past or too close");
  }
  return { from, to, value, gas, deadline };
}

/**
 * The gas limit of a request from the simulation's `estimate`: the estimate + 25% when the caller
 * gave none; a given one from the estimate up to the estimate + 50% (at least +100k) — the relayer
 * pays up to the gas limit, so a limit far above what the call needs asks it to pay for something
 * else. Either must fit one transaction with the batch overhead.
 */
export function chooseGas(given: bigint | undefined, estimate: bigint, data: string): bigint {
  let gas: bigint;
  if (given !== undefined) {
    if (given < estimate) {
      throw new RelayRejectedError("gas_too_low", `gas ${given} is below the estimate ${estimate}`);
    }
    const margin = gasMargin(estimate);
    if (given > estimate + margin) {
      throw new RelayRejectedError(
        "gas_too_high",
        `gas ${given} is above the estimate ${estimate} plus its margin (at most ${estimate + margin})`,
      );
    }
    gas = given;
  } else {
    gas = estimate + estimate / 4n;
  }
  if (TX_OVERHEAD + requestCost(gas, hexBytes(data)) > TX_GAS_CAP) {
    throw new RelayRejectedError("gas_too_high", `gas ${gas} does not fit in one transaction`);
  }
  return gas;
}

/** How far above the estimate a signed gas limit may go. */
export function gasMargin(estimate: bigint): bigint {
  const share = (estimate * GAS_MARGIN_NUM) / GAS_MARGIN_DEN;
  return share > GAS_MARGIN_MIN ? share : GAS_MARGIN_MIN;
}

/**
 * Whether a user who used `used` gas today may spend `gas` more within `budget`. Before the
 * simulation the gas is not known (0): a user with nothing left is refused before the node is asked.
 */
export function withinBudget(used: bigint, gas: bigint, budget: bigint): boolean {
  return used + (gas > 0n ? gas : 1n) <= budget;
}

/** What a user over its budget is told. */
export function budgetMessage(used: bigint, gas: bigint, budget: bigint): string {
  const needs = gas > 0n ? `, this request needs ${gas}` : "";
  return `your gas for today is spent: ${used} of ${budget} used${needs}; it renews at 00:00 UTC`;
}
