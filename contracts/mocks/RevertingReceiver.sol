// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Refuses every ETH transfer, as a broken or hostile wallet contract would.
contract RevertingReceiver {
    error RevertingReceiverRefused();

    receive() external payable {
        revert RevertingReceiverRefused();
    }
}
