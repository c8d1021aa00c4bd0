// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Forces ETH into a contract that has no way to refuse it.
contract ForceSend {
    constructor(address payable target) payable {
        selfdestruct(target);
    }
}
