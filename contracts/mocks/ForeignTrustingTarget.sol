// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test only: what a hostile self-registered user deploys to make the CoopTrace relayer pay
/// for its own computation. It claims to trust any forwarder, and {burn} succeeds with any gas while
/// consuming nearly all of it (a simulation finds it cheap; executed with a 14M gas limit, it costs
/// the relayer 14M gas).
contract ForeignTrustingTarget {
    function isTrustedForwarder(address) external pure returns (bool) {
        return true;
    }

    /// @notice Spins until little gas is left, then returns normally (no state written, so the call
    /// never runs out of gas and never reverts).
    function burn() external view returns (uint256 rounds) {
        while (gasleft() > 5_000) {
            unchecked {
                ++rounds;
            }
        }
    }
}
