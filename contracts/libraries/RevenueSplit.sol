// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title RevenueSplit
 * @notice The split of a sale's gross amount, written down once.
 *
 * Rounding rule: the fee and the members' net are rounded down and the cooperative reserve takes
 * the remainder, so `fee + reserve + net == gross` exactly:
 *   fee     = ⌊gross × feeBps / 10,000⌋
 *   net     = ⌊(gross − fee) × (10,000 − reserveBps) / 10,000⌋
 *   reserve = gross − fee − net
 * A member's share of a batch's cumulative net R in a token is ⌊R × weight / totalWeight⌋; the
 * amounts lost to that rounding (dust) add up to less than the number of contributors.
 */
library RevenueSplit {
    uint256 internal constant BPS = 10_000;

    /// @notice Splits `gross` into fee, reserve and net.
    function split(
        uint256 gross,
        uint256 feeBps,
        uint256 reserveBps
    ) internal pure returns (uint256 fee, uint256 reserve, uint256 net) {
        fee = (gross * feeBps) / BPS;
        net = ((gross - fee) * (BPS - reserveBps)) / BPS;
        reserve = gross - fee - net;
    }

    /// @notice A contributor's entitlement to a cumulative `releasedTotal`.
    function share(uint256 releasedTotal, uint256 weight, uint256 totalWeight) internal pure returns (uint256) {
        return (releasedTotal * weight) / totalWeight;
    }
}
