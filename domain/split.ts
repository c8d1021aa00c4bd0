/**
 * The money rules of the escrow, mirrored off-chain (contracts/libraries/RevenueSplit.sol and
 * SaleEscrow's cumulative accounting). The audit, the verifier and the tests recompute with these.
 */

/** The split of a sale: fee = ⌊gross × feeBps / 10⁴⌋, net = ⌊(gross − fee) × (10⁴ − reserveBps) / 10⁴⌋; the reserve takes the rounding remainder. */
export function splitRevenue(gross: bigint, feeBps: bigint, reserveBps: bigint) {
  const fee = (gross * feeBps) / 10_000n;
  const net = ((gross - fee) * (10_000n - reserveBps)) / 10_000n;
  return { fee, reserve: gross - fee - net, net };
}

/** A contributor's share of a batch's cumulative net, as the escrow computes it (rounded down). */
export function shareOf(releasedTotal: bigint, weight: bigint, totalWeight: bigint): bigint {
  return (releasedTotal * weight) / totalWeight;
}
