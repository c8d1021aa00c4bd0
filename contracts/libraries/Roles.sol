// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Roles
 * @notice The platform roles, held in {CooperativeRegistry} and checked by every CoopTrace contract.
 */
library Roles {
    /// @notice Registers cooperatives and appoints their admins (the cooperative development office).
    bytes32 internal constant REGISTRAR = keccak256("REGISTRAR_ROLE");
    /// @notice Certifies batches (labels, organic, food safety).
    bytes32 internal constant CERTIFIER = keccak256("CERTIFIER_ROLE");
    /// @notice Settles sale disputes.
    bytes32 internal constant ARBITER = keccak256("ARBITER_ROLE");
    /// @notice Draws batch quantities for sales and records members' payout routes: granted to the
    /// sale escrow contract only.
    bytes32 internal constant DRAWER = keccak256("DRAWER_ROLE");
}
