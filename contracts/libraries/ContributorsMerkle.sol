// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchRegistry} from "../interfaces/IBatchRegistry.sol";

/**
 * @title ContributorsMerkle
 * @notice The contributors of a batch, packed one word each, and their commitment built on-chain, so
 * that the root a member proves against is exactly the tree of the list emitted in
 * {IBatchRegistry-BatchRegistered}.
 *
 * A contributor is one word: `index << 64 | weight`, where `index` (32 bits) is the member's account
 * index in the {CooperativeRegistry} and `weight` (64 bits) the quantity she delivered; bits 96 and
 * up are zero. The leaf is `keccak256(abi.encode(word))`: a single hash of 32 bytes, which cannot be
 * mistaken for an inner node (a hash of 64 bytes). The tree is the one the npm package
 * openzeppelin merkle-tree builds with `SimpleMerkleTree.of(leaves, { sortLeaves: false })`: leaves
 * laid from the end of an array of 2n-1 nodes, node i = commutative keccak of nodes 2i+1 and 2i+2.
 */
library ContributorsMerkle {
    /// @notice The leaf of a contributor word.
    function leaf(uint256 contributor) internal pure returns (bytes32 hash) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, contributor)
            hash := keccak256(0x00, 0x20)
        }
    }

    /**
     * @notice Checks a contributor list and returns its root, its total weight and, for the
     * membership check, the distinct bitmap words its indices fall in with the bits they need.
     * @dev Reverts with the registry's errors if a word has bits above 96, a weight is zero, the
     * indices are not strictly ascending, or the total overflows 64 bits. The caller checks the length.
     */
    function commit(
        uint256[] calldata contributors
    ) internal pure returns (bytes32 root, uint64 totalWeight, uint256[] memory wordIndices, uint256[] memory masks) {
        uint256 n = contributors.length;
        uint256 firstIndex = contributors[0] >> 64;
        uint256 lastIndex = contributors[n - 1] >> 64;
        // Sorted, the list spans at most this many bitmap words (and never more than n).
        uint256 span = n;
        if (lastIndex >= firstIndex && (lastIndex >> 8) - (firstIndex >> 8) < n) {
            span = (lastIndex >> 8) - (firstIndex >> 8) + 1;
        }
        wordIndices = new uint256[](span);
        masks = new uint256[](span);
        (uint256 total, uint256 words) = _scan(contributors, lastIndex, wordIndices, masks);
        if (total > type(uint64).max) revert IBatchRegistry.BatchRegistryWeightOverflow();
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(wordIndices, words)
            mstore(masks, words)
        }
        return (rootOf(contributors), uint64(total), wordIndices, masks);
    }

    /// @dev The checks of {commit}, the total weight, and the bitmap words and bits in `wordIndices`
    /// and `masks` (`words` of them).
    function _scan(
        uint256[] calldata contributors,
        uint256 lastIndex,
        uint256[] memory wordIndices,
        uint256[] memory masks
    ) private pure returns (uint256 total, uint256 words) {
        uint256 next; // lowest index the next contributor may have
        uint256 currentWord = type(uint256).max;
        uint256 n = contributors.length;
        for (uint256 i = 0; i < n; ++i) {
            uint256 c;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                c := calldataload(add(contributors.offset, shl(5, i)))
            }
            if (c >> 96 != 0) revert IBatchRegistry.BatchRegistryInvalidContributor(i);
            uint256 weight = uint64(c);
            if (weight == 0) revert IBatchRegistry.BatchRegistryZeroWeight(i);
            uint256 index = c >> 64;
            // Strictly ascending indices (no member listed twice); none above the last one's.
            if (index < next || index > lastIndex) revert IBatchRegistry.BatchRegistryContributorsNotSorted(i);
            next = index + 1;
            unchecked {
                total += weight; // terms below 2^64: 2^192 of them would be needed to overflow
            }
            uint256 word = index >> 8;
            if (word != currentWord) {
                currentWord = word;
                wordIndices[words] = word;
                ++words;
            }
            masks[words - 1] |= uint256(1) << (index & 0xff);
        }
    }

    /**
     * @notice The root of the tree of `contributors` (at least one), as they are: no check.
     * @dev Only the n-1 inner nodes are kept, in memory past the free memory pointer (which is not
     * moved, so the memory is reused afterwards: by the event's encoding in a registration); the
     * leaves are hashed from calldata when their parent is built. Node i's children are 2i+1 and
     * 2i+2; a child j ≥ n-1 is the leaf of contributor 2n-2-j.
     */
    function rootOf(uint256[] calldata contributors) internal pure returns (bytes32 root) {
        uint256 n = contributors.length;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let offset := contributors.offset
            let base := mload(0x40)
            let inner := sub(n, 1) // nodes 0..n-2 are inner
            let lastNode := sub(shl(1, n), 2)
            for {
                let i := inner
            } gt(i, 0) {} {
                i := sub(i, 1)
                let l := add(shl(1, i), 1)
                let a
                let b
                // Children l and l+1: inner nodes from memory, leaves hashed from calldata.
                switch lt(l, inner)
                case 1 {
                    a := mload(add(base, shl(5, l)))
                }
                default {
                    mstore(0x00, calldataload(add(offset, shl(5, sub(lastNode, l)))))
                    a := keccak256(0x00, 0x20)
                }
                switch lt(add(l, 1), inner)
                case 1 {
                    b := mload(add(base, shl(5, add(l, 1))))
                }
                default {
                    mstore(0x00, calldataload(add(offset, shl(5, sub(lastNode, add(l, 1))))))
                    b := keccak256(0x00, 0x20)
                }
                if gt(a, b) {
                    let t := a
                    a := b
                    b := t
                }
                mstore(0x00, a)
                mstore(0x20, b)
                mstore(add(base, shl(5, i)), keccak256(0x00, 0x40))
            }
            switch n
            case 1 {
                mstore(0x00, calldataload(offset)) // one contributor: the root is her leaf
                root := keccak256(0x00, 0x20)
            }
            default {
                root := mload(base)
            }
        }
    }
}
