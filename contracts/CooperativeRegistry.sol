// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICooperativeRegistry} from "./interfaces/ICooperativeRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title CooperativeRegistry
 * @notice Cooperatives, members and the platform roles. See {ICooperativeRegistry}.
 * @dev Platform roles live here and the other contracts ask this one, so one place grants and
 * revokes them. The default admin (the platform) is changed only through the two-step, delayed
 * transfer of {AccessControlDefaultAdminRules}.
 */
contract CooperativeRegistry is ICooperativeRegistry, AccessControlDefaultAdminRules, ERC2771Context {
    bytes32 public constant REGISTRAR_ROLE = Roles.REGISTRAR;
    bytes32 public constant CERTIFIER_ROLE = Roles.CERTIFIER;
    bytes32 public constant ARBITER_ROLE = Roles.ARBITER;
    bytes32 public constant DRAWER_ROLE = Roles.DRAWER;
    /// @notice Highest reserve rate a cooperative may set (50%).
    uint16 public constant MAX_RESERVE_BPS = 5_000;
    uint256 private constant _MAX_TEXT = 128;

    uint64 private _cooperativeCount;
    mapping(uint64 cooperativeId => Cooperative) private _cooperatives;
    mapping(uint64 cooperativeId => mapping(address account => bool)) private _members;
    mapping(bytes32 registrationHash => uint64 cooperativeId) private _byRegistration;
    /// @dev Bitmap of current members by account index: bit i % 256 of word i / 256.
    mapping(uint64 cooperativeId => mapping(uint256 word => uint256)) private _memberWords;
    /// @dev Account → index + 1 (0: none given yet).
    mapping(address account => uint256) private _indexPlusOne;
    /// @dev Index → account, written once when the index is given.
    /// @dev Per index, one word: the account (bits 0–159) and the cooperative through whose payout
    /// account she is paid in dirhams (bits 160–223; zero: paid to herself), so that a claim learns
    /// both with one read.
    mapping(uint256 index => uint256 payee) private _payees;
    uint32 private _accountCount;

    /**
     * @param initialAdmin the platform admin (DEFAULT_ADMIN_ROLE).
     * @param adminTransferDelay delay of a default admin transfer, in seconds.
     * @param trustedForwarder the {ERC2771Forwarder} that relays members' signed requests.
     */
    constructor(
        address initialAdmin,
        uint48 adminTransferDelay,
        address trustedForwarder
    ) AccessControlDefaultAdminRules(adminTransferDelay, initialAdmin) ERC2771Context(trustedForwarder) {
        if (trustedForwarder == address(0)) revert CooperativeRegistryZeroAddress();
    }

    /// @inheritdoc ICooperativeRegistry
    function registerCooperative(
        string calldata name,
        string calldata region,
        string calldata registrationNumber,
        address admin,
        uint16 reserveBps,
        bool womenLed
    ) external onlyRole(REGISTRAR_ROLE) returns (uint64 cooperativeId) {
        _checkText(name, "name");
        _checkText(region, "region");
        _checkText(registrationNumber, "registrationNumber");
        if (admin == address(0)) revert CooperativeRegistryZeroAddress();
        _checkReserve(reserveBps);
        bytes32 regHash = keccak256(bytes(registrationNumber));
        uint64 existing = _byRegistration[regHash];
        if (existing != 0) revert CooperativeRegistryDuplicateRegistration(registrationNumber, existing);

        cooperativeId = ++_cooperativeCount;
        _byRegistration[regHash] = cooperativeId;
        _cooperatives[cooperativeId] = Cooperative({
            admin: admin,
            reserveBps: reserveBps,
            womenLed: womenLed,
            memberCount: 0,
            name: name,
            region: region,
            registrationNumber: registrationNumber
        });
        emit CooperativeRegistered(cooperativeId, admin, name, region, registrationNumber, reserveBps, womenLed);
    }

    /// @inheritdoc ICooperativeRegistry
    function setCooperativeAdmin(uint64 cooperativeId, address newAdmin) external {
        Cooperative storage coop = _existing(cooperativeId);
        address sender = _msgSender();
        if (sender != coop.admin && !hasRole(REGISTRAR_ROLE, sender)) {
            revert CooperativeRegistryNotCooperativeAdmin(cooperativeId, sender);
        }
        if (newAdmin == address(0)) revert CooperativeRegistryZeroAddress();
        address previous = coop.admin;
        coop.admin = newAdmin;
        emit CooperativeAdminChanged(cooperativeId, previous, newAdmin);
    }

    /// @inheritdoc ICooperativeRegistry
    function setReserveRate(uint64 cooperativeId, uint16 reserveBps) external {
        Cooperative storage coop = _onlyCooperativeAdmin(cooperativeId);
        _checkReserve(reserveBps);
        uint16 previous = coop.reserveBps;
        coop.reserveBps = reserveBps;
        emit ReserveRateChanged(cooperativeId, previous, reserveBps);
    }

    /// @inheritdoc ICooperativeRegistry
    function addMember(uint64 cooperativeId, address member, bytes32 referenceHash) external {
        Cooperative storage coop = _onlyCooperativeAdmin(cooperativeId);
        if (member == address(0)) revert CooperativeRegistryZeroAddress();
        if (referenceHash == bytes32(0)) revert CooperativeRegistryEmptyReference();
        if (_members[cooperativeId][member]) revert CooperativeRegistryAlreadyMember(cooperativeId, member);
        uint256 indexPlusOne = _indexPlusOne[member];
        if (indexPlusOne == 0) {
            // Her first membership anywhere: the next index is hers for good.
            uint32 next = _accountCount;
            _accountCount = next + 1;
            _payees[next] = uint256(uint160(member));
            indexPlusOne = uint256(next) + 1;
            _indexPlusOne[member] = indexPlusOne;
        }
        uint256 index = indexPlusOne - 1;
        _members[cooperativeId][member] = true;
        _memberWords[cooperativeId][index >> 8] |= uint256(1) << (index & 0xff);
        ++coop.memberCount;
        emit MemberAdded(cooperativeId, member, uint32(index), referenceHash);
    }

    /// @inheritdoc ICooperativeRegistry
    function removeMember(uint64 cooperativeId, address member) external {
        Cooperative storage coop = _onlyCooperativeAdmin(cooperativeId);
        if (!_members[cooperativeId][member]) revert CooperativeRegistryNotMember(cooperativeId, member);
        _members[cooperativeId][member] = false;
        uint256 index = _indexPlusOne[member] - 1; // a member always has an index
        _memberWords[cooperativeId][index >> 8] &= ~(uint256(1) << (index & 0xff));
        --coop.memberCount;
        emit MemberRemoved(cooperativeId, member);
    }

    /// @inheritdoc ICooperativeRegistry
    function isMember(uint64 cooperativeId, address account) external view returns (bool) {
        return _members[cooperativeId][account];
    }

    /// @inheritdoc ICooperativeRegistry
    function isCooperativeAdmin(uint64 cooperativeId, address account) external view returns (bool) {
        return account != address(0) && _cooperatives[cooperativeId].admin == account;
    }

    /// @inheritdoc ICooperativeRegistry
    function checkContributors(
        uint64 cooperativeId,
        address account,
        uint256[] calldata wordIndices,
        uint256[] calldata masks
    ) external view returns (bool canAct, uint256 firstMissing) {
        canAct = account == _existing(cooperativeId).admin || _members[cooperativeId][account];
        mapping(uint256 => uint256) storage bitmap = _memberWords[cooperativeId];
        uint256 n = wordIndices.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 missing = masks[k] & ~bitmap[wordIndices[k]];
            if (missing != 0) {
                uint256 bit = 0;
                while (missing & (uint256(1) << bit) == 0) ++bit;
                return (canAct, (wordIndices[k] << 8) | bit);
            }
        }
        firstMissing = type(uint256).max;
    }

    /// @inheritdoc ICooperativeRegistry
    function canActFor(uint64 cooperativeId, address account) external view returns (bool) {
        return account == _existing(cooperativeId).admin || _members[cooperativeId][account];
    }

    /// @inheritdoc ICooperativeRegistry
    function indexOf(address account) external view returns (uint32) {
        uint256 indexPlusOne = _indexPlusOne[account];
        if (indexPlusOne == 0) revert CooperativeRegistryNoIndex(account);
        return uint32(indexPlusOne - 1);
    }

    /// @inheritdoc ICooperativeRegistry
    function accountAt(uint256 index) external view returns (address) {
        return address(uint160(_payees[index]));
    }

    /// @inheritdoc ICooperativeRegistry
    function payeeAt(uint256 index) external view returns (address account, uint64 routeCooperativeId) {
        uint256 payee = _payees[index];
        return (address(uint160(payee)), uint64(payee >> 160));
    }

    /// @inheritdoc ICooperativeRegistry
    function payoutRouteOf(address account) external view returns (uint64) {
        uint256 indexPlusOne = _indexPlusOne[account];
        return indexPlusOne == 0 ? 0 : uint64(_payees[indexPlusOne - 1] >> 160);
    }

    /// @inheritdoc ICooperativeRegistry
    function setPayoutRoute(address account, uint64 cooperativeId) external {
        _checkRole(Roles.DRAWER);
        uint256 indexPlusOne = _indexPlusOne[account];
        if (indexPlusOne == 0) revert CooperativeRegistryNoIndex(account);
        _payees[indexPlusOne - 1] = uint256(uint160(account)) | (uint256(cooperativeId) << 160);
    }

    /// @inheritdoc ICooperativeRegistry
    function accountCount() external view returns (uint32) {
        return _accountCount;
    }

    /// @inheritdoc ICooperativeRegistry
    function payeesOf(uint256[] calldata contributors) external view returns (uint256[] memory payees) {
        uint256 n = contributors.length;
        payees = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            payees[i] = _payees[uint32(contributors[i] >> 64)];
        }
    }

    /// @inheritdoc ICooperativeRegistry
    function memberWords(
        uint64 cooperativeId,
        uint256[] calldata wordIndices
    ) external view returns (uint256[] memory words) {
        mapping(uint256 => uint256) storage bitmap = _memberWords[cooperativeId];
        uint256 n = wordIndices.length;
        words = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            words[i] = bitmap[wordIndices[i]];
        }
    }

    /// @inheritdoc ICooperativeRegistry
    function adminAndReserve(uint64 cooperativeId) external view returns (address admin, uint16 reserveBps) {
        Cooperative storage coop = _existing(cooperativeId);
        return (coop.admin, coop.reserveBps);
    }

    /// @inheritdoc ICooperativeRegistry
    function getCooperative(uint64 cooperativeId) external view returns (Cooperative memory) {
        return _existing(cooperativeId);
    }

    /// @inheritdoc ICooperativeRegistry
    function cooperativeCount() external view returns (uint64) {
        return _cooperativeCount;
    }

    function _existing(uint64 cooperativeId) private view returns (Cooperative storage coop) {
        coop = _cooperatives[cooperativeId];
        if (coop.admin == address(0)) revert CooperativeRegistryUnknownCooperative(cooperativeId);
    }

    function _onlyCooperativeAdmin(uint64 cooperativeId) private view returns (Cooperative storage coop) {
        coop = _existing(cooperativeId);
        address sender = _msgSender();
        if (sender != coop.admin) revert CooperativeRegistryNotCooperativeAdmin(cooperativeId, sender);
    }

    function _checkReserve(uint16 reserveBps) private pure {
        if (reserveBps > MAX_RESERVE_BPS) revert CooperativeRegistryReserveTooHigh(reserveBps, MAX_RESERVE_BPS);
    }

    function _checkText(string calldata text, string memory field) private pure {
        uint256 len = bytes(text).length;
        if (len == 0 || len > _MAX_TEXT) revert CooperativeRegistryInvalidText(field);
    }

    // ERC-2771: the member who signed a forwarded request is the sender.

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
