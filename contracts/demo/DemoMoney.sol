// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/**
 * @title DemoMoney
 * @notice A DEMO e-money token for the embedded chain only (a stand-in for a dirham or euro token
 * that a bank or licensed payment institution would issue): anyone may mint, it has no value.
 * Two decimals like the currency it stands for; EIP-2612 permits so a buyer funds a sale in one
 * signed request.
 */
contract DemoMoney is ERC20, ERC20Permit {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) ERC20Permit(name_) {}

    /// @notice Mints demo money (the embedded chain's faucet and demo seed use it).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 2;
    }
}
