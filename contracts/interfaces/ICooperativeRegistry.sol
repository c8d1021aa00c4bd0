// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ICooperativeRegistry
 * @notice Cooperatives, their admins and members, and the platform roles (registrar, certifier,
 * arbiter) that the other CoopTrace contracts consult.
 *
 * Members are addresses plus a hash of an off-chain reference (for instance a membership card
 * number salted by the cooperative): no personal data is ever written on-chain.
 *
 * Every account is given a compact index (0, 1, 2… in the order accounts first join any
 * cooperative) the first time it is added as a member; the index is hers for good (leaving and
 * coming back, or joining another cooperative of a union, keeps it) and never changes hands.
 * Batches name their contributors by index, and each cooperative keeps a bitmap of its current
 * members by index, one storage word per 256 indices ({memberWords}): a batch of any size is
 * checked with one read per distinct word rather than one per contributor. The index is global
 * rather than per cooperative so that a merge across the cooperatives of a union names every
 * contributor in one index space.
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
    /// @dev `account` never was a member of any cooperative, so has no index.
    error CooperativeRegistryNoIndex(address account);
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
    /// `index` is the member's account index, the one batches name her by (see the contract notes).
    event MemberAdded(uint64 indexed cooperativeId, address indexed member, uint32 index, bytes32 referenceHash);
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

    /// @notice {canActFor}, and the lowest index set in `masks` (one mask per word of `wordIndices`)
    /// that is not a current member of `cooperativeId` (2^256 − 1: all are), in one call.
    function checkContributors(
        uint64 cooperativeId,
        address account,
        uint256[] calldata wordIndices,
        uint256[] calldata masks
    ) external view returns (bool canAct, uint256 firstMissing);

    /**
     * @notice The index of `account`, given when it first became a member of any cooperative.
     * @dev Reverts with {CooperativeRegistryNoIndex} if it never was a member.
     */
    function indexOf(address account) external view returns (uint32);

    /// @notice The account holding `index` (zero if no account was given it yet).
    function accountAt(uint256 index) external view returns (address);

    /// @notice How many indices were given (ids run from 0 to this number − 1).
    function accountCount() external view returns (uint32);

    /**
     * @notice The account of `index` and the cooperative through whose payout account she chose to be
     * paid in dirhams (zero: to herself); zero address for an index not given.
     */
    function payeeAt(uint256 index) external view returns (address account, uint64 routeCooperativeId);

    /**
     * @notice The payees named by packed contributor words (index in bits 64..95; see
     * {IBatchRegistry-registerBatch}), each as {payeeAt} in one word: the account in bits 0..159, the
     * route's cooperative in bits 160..223.
     */
    function payeesOf(uint256[] calldata contributors) external view returns (uint256[] memory payees);

    /// @notice The cooperative through whose payout account `account` is paid (zero: herself, or no index).
    function payoutRouteOf(address account) external view returns (uint64);

    /**
     * @notice Records that `account` is paid through `cooperativeId`'s payout account (zero: to herself).
     * @dev Caller: the sale escrow (it holds {Roles-DRAWER}), which checks her choice and signature;
     * reverts with {CooperativeRegistryNoIndex} if she never was a member.
     */
    function setPayoutRoute(address account, uint64 cooperativeId) external;

    /**
     * @notice Words of the bitmap of the current members of `cooperativeId`: bit `i % 256` of word
     * `i / 256` is set when the account of index `i` is a member. One word per entry of `wordIndices`.
     */
    function memberWords(
        uint64 cooperativeId,
        uint256[] calldata wordIndices
    ) external view returns (uint256[] memory words);

    /// @notice The admin and the reserve rate of a cooperative (reverts if unknown).
    function adminAndReserve(uint64 cooperativeId) external view returns (address admin, uint16 reserveBps);

    /// @notice The cooperative, as registered (reverts if unknown).
    function getCooperative(uint64 cooperativeId) external view returns (Cooperative memory);

    /// @notice The number of cooperatives registered; ids run from 1 to this number.
    function cooperativeCount() external view returns (uint64);
}
