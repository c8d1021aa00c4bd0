// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice On receiving ETH, calls back into a target with stored calldata (a second claim or
/// withdrawal). Records whether the re-entry succeeded; reverts when `strict` to make the outer
/// payment fail, or swallows the failure otherwise.
contract ReentrantReceiver {
    address public reentryTarget;
    bytes public reentryData;
    bool public strict;
    bool public reentered;
    bool public reentrySucceeded;
    uint256 public received;

    function arm(address target_, bytes calldata data, bool strict_) external {
        reentryTarget = target_;
        reentryData = data;
        strict = strict_;
    }

    /// @notice Makes an arbitrary call as this contract (to fund, claim, open a dispute...).
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
        received += msg.value;
        if (reentryTarget == address(0) || reentered) return;
        reentered = true;
        (bool ok, ) = reentryTarget.call(reentryData);
        reentrySucceeded = ok;
        if (!ok && strict) revert("reentry failed");
    }
}
