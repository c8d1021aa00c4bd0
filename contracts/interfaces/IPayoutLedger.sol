// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IPayoutLedger
 * @notice The record of what each cooperative paid its members off-chain, in dirhams, and of each
 * member's own word that she received it.
 *
 * Members living in Morocco are paid in dirhams (bank transfer, M-Wallet mobile money or cash at the
 * cooperative): crypto-assets are prohibited for residents. What the chain can prove is what each
 * was due (the escrow's releases and her share of them) and, here, that her cooperative says it paid
 * her, how, for what, and that she confirmed or contested it with her own signature. No personal
 * data is stored: a payment reference (bank or M-Wallet transaction number, receipt number) is kept
 * as a hash only.
 *
 * A payout is denominated in the settlement token whose entitlement it settles (`token`,
 * `tokenAmount`), with the dirhams actually handed over (`dirhams`, in centimes) and, when a token
 * of another currency was converted, the rate used (`rateE6`, dirhams per unit of that currency,
 * times one million). Premiums add to what a member is entitled to; advances are paid before the
 * shares they will be offset against. Life of a payout: Recorded → Confirmed, Recorded → Contested
 * → Confirmed (she received it after all). A confirmation is final; a contest stays in the log.
 *
 * A payout's id is keccak256(abi.encode(cooperativeId, member, referenceHash)): the same payment
 * (same reference) cannot be recorded twice, and whoever records it knows its id before it is mined.
 */
interface IPayoutLedger {
    enum Status {
        None,
        Recorded,
        Confirmed,
        Contested
    }

    /// @notice Why the money was paid.
    enum Purpose {
        SaleShare, // her share of released sales
        Advance, // paid before the sale, offset against later shares
        Instalment, // part of a share paid in several times
        Premium, // a premium decided by the cooperative
        WomensPremium,
        QualityPremium
    }

    /// @notice How the money was paid.
    enum Method {
        Bank,
        MWallet,
        Cash
    }

    /// @notice One payout as the cooperative records it.
    struct PayoutInput {
        address member;
        address token; // the settlement token whose entitlement it settles (zero: ETH)
        uint128 tokenAmount; // in the token's smallest unit
        uint128 dirhams; // centimes handed over
        uint64 rateE6; // dirhams per unit of the token's currency × 1e6 (0: no conversion)
        Purpose purpose;
        Method method;
        bytes32 referenceHash; // hash of the payment reference, never the reference itself
    }

    /// @notice A payout as stored: enough to decide who may confirm it and whether she already did.
    struct Payout {
        address member;
        uint64 cooperativeId;
        Status status;
    }

    /// @dev The caller is not the admin of `cooperativeId`.
    error PayoutLedgerNotCooperativeAdmin(uint64 cooperativeId, address account);
    /// @dev No payout has this id.
    error PayoutLedgerUnknownPayout(bytes32 payoutId);
    /// @dev Only the member the payout names may confirm or contest it.
    error PayoutLedgerNotPayee(bytes32 payoutId, address account);
    /// @dev The payout is not in a state that allows it (a confirmed payout is final).
    error PayoutLedgerInvalidStatus(bytes32 payoutId, Status status);
    /// @dev This payment (same cooperative, member and reference) is already recorded.
    error PayoutLedgerDuplicate(bytes32 payoutId);
    /// @dev A payout names a member and hands over a positive amount.
    error PayoutLedgerInvalidPayout(uint256 index);
    /// @dev Nothing to record.
    error PayoutLedgerEmpty();
    /// @dev The caller is not the platform admin.
    error PayoutLedgerNotPlatformAdmin(address account);
    /// @dev A reference rate names a currency (ISO 4217), a positive rate and its source.
    error PayoutLedgerInvalidRate();

    /// @dev Emitted for each payout recorded.
    event PayoutRecorded(
        bytes32 indexed payoutId,
        uint64 indexed cooperativeId,
        address indexed member,
        address token,
        uint128 tokenAmount,
        uint128 dirhams,
        uint64 rateE6,
        Purpose purpose,
        Method method,
        bytes32 referenceHash
    );
    /// @dev Emitted when the member confirms she received the payout.
    event PayoutConfirmed(bytes32 indexed payoutId, address indexed member);
    /// @dev Emitted when the member says she did not receive it as recorded.
    event PayoutContested(bytes32 indexed payoutId, address indexed member, bytes32 reasonHash);
    /// @dev Emitted when the platform admin records a reference rate (e.g. Bank Al-Maghrib's) for showing
    /// amounts of another currency in dirhams.
    event ReferenceRateSet(bytes3 indexed currency, uint64 rateE6, uint64 asOf, string source);

    /**
     * @notice Records payouts made by cooperative `cooperativeId` to its members.
     * @dev Caller: the cooperative's admin. Emits one {PayoutRecorded} per payout.
     */
    function recordPayouts(uint64 cooperativeId, PayoutInput[] calldata payouts) external;

    /// @notice The member named by the payout says she received it. Final. Emits {PayoutConfirmed}.
    function confirm(bytes32 payoutId) external;

    /// @notice The member named by the payout says she did not receive it as recorded. Emits {PayoutContested}.
    function contest(bytes32 payoutId, bytes32 reasonHash) external;

    /// @notice Records a reference rate: dirhams per unit of `currency`, × 1e6. Caller: platform admin.
    function setReferenceRate(bytes3 currency, uint64 rateE6, uint64 asOf, string calldata source) external;

    /// @notice The payout (reverts with {PayoutLedgerUnknownPayout} if unknown).
    function getPayout(bytes32 payoutId) external view returns (Payout memory);

    /// @notice The id of the payout of `member` by `cooperativeId` with reference `referenceHash`.
    function payoutIdOf(uint64 cooperativeId, address member, bytes32 referenceHash) external pure returns (bytes32);
}
