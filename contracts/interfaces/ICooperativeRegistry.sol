// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ICooperativeRegistry
 * @notice Cooperatives, their admins and members, and the platform roles (registrar, certifier,
 * arbiter) that the other CoopTrace contracts consult.
 *
 * Members are addresses plus a hash of an off-chain reference (for instance a membership card
 * number salted by the cooperative): no personal data is ever written on-chain.
 */
interface ICooperativeRegistry {
    /// @notice A cooperative as stored on-chain.
    struct Cooperative {
        address admin;
        uint16 reserveBps;
        bool womenLed;
        uint32 memberCount;
        string name;
        string region;
        string registrationNumber;
    }

    /// @dev `cooperativeId` does not name a registered cooperative.
    error CooperativeRegistryUnknownCooperative(uint64 cooperativeId);
    /// @dev `account` is not the admin of `cooperativeId`.
    error CooperativeRegistryNotCooperativeAdmin(uint64 cooperativeId, address account);
    /// @dev The zero address was given where an account is required.
    error CooperativeRegistryZeroAddress();
    /// @dev A reserve rate above {MAX_RESERVE_BPS}.
    error CooperativeRegistryReserveTooHigh(uint16 reserveBps, uint16 maxReserveBps);
    /// @dev A required text field (name, region, registration number) is empty or too long.
    error CooperativeRegistryInvalidText(string field);
    /// @dev Another cooperative already uses this legal registration number.
    error CooperativeRegistryDuplicateRegistration(string registrationNumber, uint64 existingId);
    /// @dev `account` is already a member of `cooperativeId`.
    error CooperativeRegistryAlreadyMember(uint64 cooperativeId, address account);
    /// @dev `account` is not a member of `cooperativeId`.
    error CooperativeRegistryNotMember(uint64 cooperativeId, address account);
    /// @dev The member reference hash is zero.
    error CooperativeRegistryEmptyReference();

    /**
     * @dev Emitted when a REGISTRAR registers a cooperative.
     */
    event CooperativeRegistered(
        uint64 indexed cooperativeId,
        address indexed admin,
        string name,
        string region,
        string registrationNumber,
        uint16 reserveBps,
        bool womenLed
    );
    /// @dev Emitted when the admin of a cooperative changes.
    event CooperativeAdminChanged(
        uint64 indexed cooperativeId,
        address indexed previousAdmin,
        address indexed newAdmin
    );
    /// @dev Emitted when a cooperative's reserve rate changes.
    event ReserveRateChanged(uint64 indexed cooperativeId, uint16 previousBps, uint16 newBps);
    /// @dev Emitted when a member joins a cooperative. `referenceHash` commits to an off-chain record.
    event MemberAdded(uint64 indexed cooperativeId, address indexed member, bytes32 referenceHash);
    /// @dev Emitted when a member leaves a cooperative. Shares already earned stay claimable.
    event MemberRemoved(uint64 indexed cooperativeId, address indexed member);

    /**
     * @notice Registers a cooperative and appoints its admin.
     * @dev Requirements:
     * - the caller holds REGISTRAR_ROLE;
     * - `admin` is not the zero address;
     * - `name`, `region` and `registrationNumber` are non-empty and at most 128 bytes;
     * - `registrationNumber` is not used by another cooperative;
     * - `reserveBps` is at most {MAX_RESERVE_BPS}.
     *
     * Emits a {CooperativeRegistered} event.
     * @return cooperativeId the new cooperative's id, counting from 1.
     */
    function registerCooperative(
        string calldata name,
        string calldata region,
        string calldata registrationNumber,
        address admin,
        uint16 reserveBps,
        bool womenLed
    ) external returns (uint64 cooperativeId);

    /**
     * @notice Hands over the administration of a cooperative.
     * @dev Requirements: the caller is the current admin or holds REGISTRAR_ROLE (which appoints
     * admins, for instance when one lost access); `newAdmin` is not the zero address.
     *
     * Emits a {CooperativeAdminChanged} event.
     */
    function setCooperativeAdmin(uint64 cooperativeId, address newAdmin) external;

    /**
     * @notice Sets the share of each sale that goes to the cooperative's reserve fund.
     * @dev Applies to sales created afterwards; a sale keeps the rate it was created with.
     * Requirements: the caller is the cooperative's admin; `reserveBps` ≤ {MAX_RESERVE_BPS}.
     *
     * Emits a {ReserveRateChanged} event.
     */
    function setReserveRate(uint64 cooperativeId, uint16 reserveBps) external;

    /**
     * @notice Adds a member to a cooperative.
     * @dev Requirements: the caller is the cooperative's admin; `member` is not zero and not
     * already a member; `referenceHash` is not zero.
     *
     * Emits a {MemberAdded} event.
     */
    function addMember(uint64 cooperativeId, address member, bytes32 referenceHash) external;

    /**
     * @notice Removes a member. The member keeps every share already earned.
     * @dev Requirements: the caller is the cooperative's admin; `member` is a member.
     *
     * Emits a {MemberRemoved} event.
     */
    function removeMember(uint64 cooperativeId, address member) external;

    /// @notice Whether `account` is currently a member of `cooperativeId`.
    function isMember(uint64 cooperativeId, address account) external view returns (bool);

    /// @notice Whether `account` is the admin of `cooperativeId`.
    function isCooperativeAdmin(uint64 cooperativeId, address account) external view returns (bool);

    /**
     * @notice Whether `account` may act for `cooperativeId`: it is its admin or a member.
     * @dev Reverts with {CooperativeRegistryUnknownCooperative} if the cooperative is unknown.
     */
    function canActFor(uint64 cooperativeId, address account) external view returns (bool);

    /**
     * @notice Reverts with {CooperativeRegistryNotMember} naming the first address of `accounts`
     * that is not a current member of `cooperativeId`. One call checks a whole contributor list.
     */
    function checkMembers(uint64 cooperativeId, address[] calldata accounts) external view;

    /// @notice The admin and the reserve rate of a cooperative (reverts if unknown).
    function adminAndReserve(uint64 cooperativeId) external view returns (address admin, uint16 reserveBps);

    /// @notice The cooperative, as registered (reverts if unknown).
    function getCooperative(uint64 cooperativeId) external view returns (Cooperative memory);

    /// @notice The number of cooperatives registered; ids run from 1 to this number.
    function cooperativeCount() external view returns (uint64);
}
