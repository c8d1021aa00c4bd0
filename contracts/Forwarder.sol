// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/**
 * @title Forwarder
 * @notice Relays EIP-712 requests signed by members so the gateway's relayer pays the gas while
 * `_msgSender()` in the CoopTrace contracts is the member. It holds no role and no funds: value
 * sent with a request goes on to its target, and {ERC2771Forwarder} refunds what is left of a
 * batch to the relayer's chosen recipient.
 */
contract Forwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("CoopTraceForwarder") {}
}
