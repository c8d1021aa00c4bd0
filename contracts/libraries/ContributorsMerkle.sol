// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
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
        address previous;
        for (uint256 i = 0; i < n; ++i) {
            IBatchRegistry.Contributor calldata c = contributors[i];
            if (c.weight == 0) revert IBatchRegistry.BatchRegistryZeroWeight(i);
            // Strictly ascending addresses: sorted for the indexer, and no member listed twice.
            if (c.account <= previous) revert IBatchRegistry.BatchRegistryContributorsNotSorted(i);
            previous = c.account;
            total += c.weight;
            tree[tree.length - 1 - i] = leaf(c.account, c.weight);
        }
        if (total > type(uint64).max) revert IBatchRegistry.BatchRegistryWeightOverflow();
        // Internal nodes are 0..n-2, built from the last to the root.
        for (uint256 i = n - 1; i > 0;) {
            unchecked {
                --i;
            }
            tree[i] = Hashes.commutativeKeccak256(tree[2 * i + 1], tree[2 * i + 2]);
        }
        return (tree[0], uint64(total));
    }
}
