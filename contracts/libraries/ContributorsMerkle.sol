// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchRegistry} from "../interfaces/IBatchRegistry.sol";

/**
 * @title ContributorsMerkle
 * @notice Builds the contributors commitment of a batch on-chain, so that the root a member
 * proves against is exactly the tree of the list emitted in {IBatchRegistry-BatchRegistered}.
 *
 * The tree is the one that the npm package openzeppelin merkle-tree builds with
 * `StandardMerkleTree.of(values, ["address", "uint256"], { sortLeaves: false })`:
 * leaf = keccak256(bytes.concat(keccak256(abi.encode(account, weight)))), leaves laid from the end
 * of an array of 2n-1 nodes, node i = commutative keccak of nodes 2i+1 and 2i+2. Building the same
 * layout (rather than a simpler level-by-level tree) lets every off-chain tool use that library.
 */
library ContributorsMerkle {
    /// @notice The standard leaf of (account, weight).
    function leaf(address account, uint256 weight) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, weight))));
    }

    /**
     * @notice Root of the tree of `contributors` and the sum of their weights.
     * @dev Reverts with the registry's errors if a weight is zero, the list is not strictly ascending
     * by address, or the total overflows 64 bits. The caller checks the length.
     */
    function commit(
        IBatchRegistry.Contributor[] calldata contributors
    ) internal pure returns (bytes32 root, uint64 totalWeight) {
        uint256 n = contributors.length;
        bytes32[] memory tree = new bytes32[](2 * n - 1);
        uint256 total;
        uint256 previous;
        // The list is read word by word in assembly rather than through Solidity's struct accessors:
        // those re-validate and copy each element, and cost about 2.8k gas per contributor in
        // registerBatch (see `npm run gas:breakdown`). The checks they made are kept below.
        for (uint256 i = 0; i < n; ++i) {
            uint256 account;
            uint256 weight;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                let p := add(contributors.offset, shl(6, i))
                account := calldataload(p)
                weight := calldataload(add(p, 0x20))
            }
            // A word that does not fit its type is not an address or a 64-bit weight.
            if (account >> 160 != 0 || weight >> 64 != 0) revert IBatchRegistry.BatchRegistryInvalidContributor(i);
            if (weight == 0) revert IBatchRegistry.BatchRegistryZeroWeight(i);
            // Strictly ascending addresses: sorted for the indexer, and no member listed twice.
            if (account <= previous) revert IBatchRegistry.BatchRegistryContributorsNotSorted(i);
            previous = account;
            unchecked {
                total += weight; // terms below 2^64: 2^192 of them would be needed to overflow
            }
            bytes32 node;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                // leaf(account, weight), in scratch space
                mstore(0x00, account)
                mstore(0x20, weight)
                mstore(0x00, keccak256(0x00, 0x40))
                node := keccak256(0x00, 0x20)
            }
            tree[tree.length - 1 - i] = node;
        }
        if (total > type(uint64).max) revert IBatchRegistry.BatchRegistryWeightOverflow();
        _buildNodes(tree, n);
        return (tree[0], uint64(total));
    }

    /// @dev Internal nodes are 0..n-2, built from the last to the root: node i is the commutative
    /// keccak of nodes 2i+1 and 2i+2 (the smaller first), as {Hashes-commutativeKeccak256}.
    function _buildNodes(bytes32[] memory tree, uint256 n) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let base := add(tree, 0x20)
            for {
                let i := sub(n, 1)
            } gt(i, 0) {} {
                i := sub(i, 1)
                let a := mload(add(base, shl(5, add(shl(1, i), 1))))
                let b := mload(add(base, shl(5, add(shl(1, i), 2))))
                switch lt(a, b)
                case 1 {
                    mstore(0x00, a)
                    mstore(0x20, b)
                }
                default {
                    mstore(0x00, b)
                    mstore(0x20, a)
                }
                mstore(add(base, shl(5, i)), keccak256(0x00, 0x40))
            }
        }
    }
}
