// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IPayoutLedger} from "./interfaces/IPayoutLedger.sol";
import {CooperativeRegistry} from "./CooperativeRegistry.sol";

/**
 * @title PayoutLedger
 * @notice Payouts made off-chain by cooperatives to their members, each confirmed or contested by
 * the member herself. See {IPayoutLedger}.
 * @dev Holds no money and calls nothing but the registry's views. Amounts, purpose, method and
 * reference live in the events (the verifier and the index read them); storage keeps one word per
 * payout, what confirmation needs. The member is not checked against the current member list: a
 * member who left may still be paid what she was due, and only she can confirm it.
 */
contract PayoutLedger is IPayoutLedger, ERC2771Context {
    /// @notice The registry of cooperatives and platform roles.
    CooperativeRegistry public immutable registry;

    mapping(bytes32 payoutId => Payout) private _payouts;

    constructor(CooperativeRegistry registry_, address trustedForwarder) ERC2771Context(trustedForwarder) {
        registry = registry_;
    }

    /// @inheritdoc IPayoutLedger
    function recordPayouts(uint64 cooperativeId, PayoutInput[] calldata payouts) external {
        address sender = _msgSender();
        if (!registry.isCooperativeAdmin(cooperativeId, sender)) {
            revert PayoutLedgerNotCooperativeAdmin(cooperativeId, sender);
        }
        uint256 n = payouts.length;
        if (n == 0) revert PayoutLedgerEmpty();
        for (uint256 i = 0; i < n; ++i) {
            PayoutInput calldata p = payouts[i];
            if (p.member == address(0) || p.dirhams == 0) revert PayoutLedgerInvalidPayout(i);
            bytes32 id = payoutIdOf(cooperativeId, p.member, p.referenceHash);
            Payout storage payout = _payouts[id];
            if (payout.status != Status.None) revert PayoutLedgerDuplicate(id);
            payout.member = p.member;
            payout.cooperativeId = cooperativeId;
            payout.status = Status.Recorded;
            emit PayoutRecorded(
                id,
                cooperativeId,
                p.member,
                p.token,
                p.tokenAmount,
                p.dirhams,
                p.rateE6,
                p.purpose,
                p.method,
                p.referenceHash
            );
        }
    }

    /// @inheritdoc IPayoutLedger
    function confirm(bytes32 payoutId) external {
        Payout storage payout = _payee(payoutId);
        Status status = payout.status;
        if (status == Status.Confirmed) revert PayoutLedgerInvalidStatus(payoutId, status);
        payout.status = Status.Confirmed;
        emit PayoutConfirmed(payoutId, payout.member);
    }

    /// @inheritdoc IPayoutLedger
    function contest(bytes32 payoutId, bytes32 reasonHash) external {
        Payout storage payout = _payee(payoutId);
        Status status = payout.status;
        if (status != Status.Recorded) revert PayoutLedgerInvalidStatus(payoutId, status);
        payout.status = Status.Contested;
        emit PayoutContested(payoutId, payout.member, reasonHash);
    }

    /// @inheritdoc IPayoutLedger
    function setReferenceRate(bytes3 currency, uint64 rateE6, uint64 asOf, string calldata source) external {
        address sender = _msgSender();
        // DEFAULT_ADMIN_ROLE of the registry: the platform admin.
        if (!registry.hasRole(bytes32(0), sender)) revert PayoutLedgerNotPlatformAdmin(sender);
        for (uint256 i = 0; i < 3; ++i) {
            if (currency[i] < "A" || currency[i] > "Z") revert PayoutLedgerInvalidRate();
        }
        if (rateE6 == 0 || asOf == 0 || bytes(source).length == 0 || bytes(source).length > 64) {
            revert PayoutLedgerInvalidRate();
        }
        emit ReferenceRateSet(currency, rateE6, asOf, source);
    }

    /// @inheritdoc IPayoutLedger
    function getPayout(bytes32 payoutId) external view returns (Payout memory) {
        return _payout(payoutId);
    }

    /// @inheritdoc IPayoutLedger
    function payoutIdOf(uint64 cooperativeId, address member, bytes32 referenceHash) public pure returns (bytes32) {
        return keccak256(abi.encode(cooperativeId, member, referenceHash));
    }

    function _payout(bytes32 payoutId) private view returns (Payout storage payout) {
        payout = _payouts[payoutId];
        if (payout.status == Status.None) revert PayoutLedgerUnknownPayout(payoutId);
    }

    function _payee(bytes32 payoutId) private view returns (Payout storage payout) {
        payout = _payout(payoutId);
        address sender = _msgSender();
        if (sender != payout.member) revert PayoutLedgerNotPayee(payoutId, sender);
    }
}
