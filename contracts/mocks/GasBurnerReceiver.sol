// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Burns all the gas it is given when it receives ETH (an endless loop), as a hostile
/// wallet contract would. Can also act (fund a sale, open a dispute...) through {execute}.
contract GasBurnerReceiver {
    uint256 public counter;

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
        // Writes keep the optimizer from removing the loop; it ends only when the gas runs out.
        for (;;) {
            unchecked {
                ++counter;
            }
        }
    }
}
