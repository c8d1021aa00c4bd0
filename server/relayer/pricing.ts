/**
 * The price calculator, pure: the fee fields of a relayer transaction's first version from the
 * node's fee data, and of a replacement from the version it replaces. EIP-1559 (type 2) when the
 * node gives both EIP-1559 fees, a legacy gas price (type 0) otherwise.
 *
 * A replacement pays at least 12.5% more on every fee field (geth's pool wants 10% more to replace
 * a pending transaction of the same nonce; the rest is room for nodes with a stricter rule) and at
 * least the node's current fees, so that a transaction stuck behind a rising base fee catches up at
 * once. No ceiling (see relayer.ts).
 */

/** The node's fee data (ethers' FeeData has this shape). */
export interface Fees {
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  gasPrice: bigint | null;
}

export type FeeFields = { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 0; gasPrice: bigint };

/** The fee fields of a version already signed. */
export interface SignedFees {
  type: number;
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  gasPrice: bigint | null;
}

/** +12.5%, rounded up, and at least +1 wei. */
export function bump(x: bigint): bigint {
  const up = (x * 1125n + 999n) / 1000n;
  return up > x ? up : x + 1n;
}

export function maxBig(...xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b > a ? b : a));
}

/** The fees of a first version: the node's, as they are. */
export function initialFees(fees: Fees): FeeFields {
  if (fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null) {
    return { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas };
  }
  return { type: 0, gasPrice: fees.gasPrice ?? 0n };
}

/** The fees of the version that replaces `prev`, of the same type, with the node's `current` fees. */
export function replacementFees(prev: SignedFees, current: Fees): FeeFields {
  if (prev.type === 2) {
    const maxPriorityFeePerGas = maxBig(bump(prev.maxPriorityFeePerGas ?? 0n), current.maxPriorityFeePerGas ?? 0n);
    const maxFeePerGas = maxBig(bump(prev.maxFeePerGas ?? 0n), current.maxFeePerGas ?? 0n, maxPriorityFeePerGas);
    return { type: 2, maxFeePerGas, maxPriorityFeePerGas };
  }
  return { type: 0, gasPrice: maxBig(bump(prev.gasPrice ?? 0n), current.gasPrice ?? 0n) };
}
