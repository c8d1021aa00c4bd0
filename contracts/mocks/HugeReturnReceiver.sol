// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice On receiving ETH, answers with `size` bytes of returndata (1 MB by default): it reverts
/// with them when `reverting`, or returns them otherwise (a "return bomb" for a caller that copies
/// returndata). Can also act (fund a sale, open a dispute...) through {execute}.
contract HugeReturnReceiver {
    bool public reverting;
    uint256 public size;

    constructor(bool reverting_, uint256 size_) {
        reverting = reverting_;
        size = size_ == 0 ? 1 << 20 : size_;
    }

    /// @notice Makes an arbitrary call as this contract.
    function execute(address to, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        bool r = reverting;
        uint256 n = size;
        assembly {
            if r {
                revert(0, n)
            }
            return(0, n)
        }
    }
}
