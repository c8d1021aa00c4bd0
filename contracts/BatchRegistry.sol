// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IBatchRegistry} from "./interfaces/IBatchRegistry.sol";
import {ICooperativeRegistry} from "./interfaces/ICooperativeRegistry.sol";
import {CooperativeRegistry} from "./CooperativeRegistry.sol";
import {ContributorsMerkle} from "./libraries/ContributorsMerkle.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title BatchRegistry
 * @notice Product batches, their lifecycle, certifications, lineage and mass balance. See {IBatchRegistry}.
 */
contract BatchRegistry is IBatchRegistry, ERC2771Context {
    /// @notice Most contributors in one batch (a registration of 10,000 stays well under the 2^24 gas cap).
    uint256 public constant MAX_CONTRIBUTORS = 10_000;
    /// @notice Most children in one split.
    uint256 public constant MAX_CHILDREN = 50;
    /// @notice Most parents in one merge.
    uint256 public constant MAX_PARENTS = 20;
    uint256 private constant _MAX_TEXT = 128;
    uint256 private constant _MAX_BIZSTEP = 256;

    /// @notice The registry of cooperatives, members and roles.
    CooperativeRegistry public immutable registry;

    uint256 private _certificationCount;
    mapping(bytes32 batchId => Batch) private _batches;
    mapping(uint256 certificationId => Certification) private _certifications;

    constructor(CooperativeRegistry registry_, address trustedForwarder) ERC2771Context(trustedForwarder) {
        if (address(registry_) == address(0) || trustedForwarder == address(0)) {
            revert ICooperativeRegistry.CooperativeRegistryZeroAddress();
        }
        registry = registry_;
    }

    /// @inheritdoc IBatchRegistry
    function registerBatch(
        uint64 cooperativeId,
        BatchInfo calldata info,
        uint256[] calldata contributors
    ) external returns (bytes32 batchId) {
        address sender = _msgSender();
        _checkContributorCount(contributors.length);
        return _register(cooperativeId, sender, info, contributors, true);
    }

    /// @inheritdoc IBatchRegistry
    function recordEvent(
        bytes32 batchId,
        string calldata bizStep,
        string calldata location,
        uint64 eventTime,
        bytes32 documentHash
    ) external {
        address sender = _msgSender();
        _checkActor(_existing(batchId).cooperativeId, sender);
        uint256 len = bytes(bizStep).length;
        if (len == 0 || len > _MAX_BIZSTEP) revert BatchRegistryInvalidText("bizStep");
        if (bytes(location).length > _MAX_TEXT) revert BatchRegistryInvalidText("location");
        _checkTime(eventTime);
        emit BatchEvent(batchId, sender, bizStep, location, eventTime, documentHash);
    }

    /// @inheritdoc IBatchRegistry
    function certify(
        bytes32 batchId,
        string calldata scheme,
        bytes32 certificateHash,
        uint64 validUntil
    ) external returns (uint256 certificationId) {
        address sender = _msgSender();
        _checkCertifier(sender);
        _existing(batchId);
        uint256 len = bytes(scheme).length;
        if (len == 0 || len > _MAX_TEXT) revert BatchRegistryInvalidText("scheme");
        if (validUntil <= block.timestamp) revert BatchRegistryInvalidTime(validUntil);
        certificationId = ++_certificationCount;
        _certifications[certificationId] = Certification({
            batchId: batchId,
            certifier: sender,
            validUntil: validUntil,
            revoked: false
        });
        emit BatchCertified(batchId, certificationId, sender, scheme, certificateHash, validUntil);
    }

    /// @inheritdoc IBatchRegistry
    function revokeCertification(uint256 certificationId, bytes32 reasonHash) external {
        address sender = _msgSender();
        _checkCertifier(sender);
        Certification storage cert = _certifications[certificationId];
        if (cert.certifier == address(0)) revert BatchRegistryUnknownCertification(certificationId);
        if (cert.certifier != sender) revert BatchRegistryNotIssuer(certificationId, sender);
        if (cert.revoked) revert BatchRegistryCertificationRevoked(certificationId);
        cert.revoked = true;
        emit CertificationRevoked(cert.batchId, certificationId, sender, reasonHash);
    }

    /// @inheritdoc IBatchRegistry
    function splitBatch(bytes32 parentId, ChildLot[] calldata children) external returns (bytes32[] memory childIds) {
        address sender = _msgSender();
        Batch storage parent = _existing(parentId);
        uint64 cooperativeId = parent.cooperativeId;
        _checkActor(cooperativeId, sender);
        uint256 count = children.length;
        if (count == 0 || count > MAX_CHILDREN) revert BatchRegistryInvalidLineageCount(count, MAX_CHILDREN);

        uint256 total;
        uint64[] memory quantities = new uint64[](count);
        for (uint256 i = 0; i < count; ++i) {
            if (children[i].quantity == 0) revert BatchRegistryZeroQuantity();
            total += children[i].quantity;
            quantities[i] = children[i].quantity;
        }
        _draw(parentId, parent, total);

        childIds = new bytes32[](count);
        bytes32 root = parent.contributorsRoot;
        uint64 totalWeight = parent.totalWeight;
        uint256[] memory none;
        for (uint256 i = 0; i < count; ++i) {
            ChildLot calldata child = children[i];
            bytes32 childId = _newBatchId(cooperativeId, child.lotCode);
            _batches[childId] = Batch({
                cooperativeId: cooperativeId,
                quantity: child.quantity,
                drawn: 0,
                totalWeight: totalWeight,
                contributorsRoot: root
            });
            // Product, GTIN, unit, origin and production date are the parent's: the indexer copies
            // them from the parent's registration, so they are left empty here.
            BatchInfo memory info;
            info.lotCode = child.lotCode;
            info.quantity = child.quantity;
            info.metadataHash = child.metadataHash;
            emit BatchRegistered(childId, cooperativeId, sender, info, none, root, totalWeight);
            childIds[i] = childId;
        }
        emit BatchSplit(parentId, sender, childIds, quantities);
    }

    /// @inheritdoc IBatchRegistry
    function mergeBatches(
        uint64 cooperativeId,
        Draw[] calldata inputs,
        BatchInfo calldata info,
        uint256[] calldata contributors
    ) external returns (bytes32 batchId) {
        address sender = _msgSender();
        _checkActor(cooperativeId, sender);
        uint256 count = inputs.length;
        if (count == 0 || count > MAX_PARENTS) revert BatchRegistryInvalidLineageCount(count, MAX_PARENTS);
        _checkContributorCount(contributors.length);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 parentId = inputs[i].batchId;
            for (uint256 j = 0; j < i; ++j) {
                if (inputs[j].batchId == parentId) revert BatchRegistryDuplicateParent(parentId);
            }
            Batch storage parent = _existing(parentId);
            if (parent.cooperativeId != cooperativeId) _checkActor(parent.cooperativeId, sender);
            if (inputs[i].quantity == 0) revert BatchRegistryZeroQuantity();
            _draw(parentId, parent, inputs[i].quantity);
        }
        batchId = _register(cooperativeId, sender, info, contributors, false);
        emit BatchesMerged(batchId, sender, inputs);
    }

    /// @inheritdoc IBatchRegistry
    function drawForSale(bytes32 batchId, uint64 quantity) external returns (Batch memory) {
        _checkDrawer();
        Batch storage batch = _existing(batchId);
        if (quantity == 0) revert BatchRegistryZeroQuantity();
        _draw(batchId, batch, quantity);
        emit QuantityDrawn(batchId, quantity, batch.drawn);
        return batch;
    }

    /// @inheritdoc IBatchRegistry
    function restoreForSale(bytes32 batchId, uint64 quantity) external {
        _checkDrawer();
        Batch storage batch = _existing(batchId);
        uint64 drawn = batch.drawn;
        if (quantity > drawn) revert BatchRegistryRestoreExceeded(batchId, drawn, quantity);
        batch.drawn = drawn - quantity;
        emit QuantityRestored(batchId, quantity, drawn - quantity);
    }

    /// @inheritdoc IBatchRegistry
    function getBatch(bytes32 batchId) external view returns (Batch memory) {
        return _existing(batchId);
    }

    /// @inheritdoc IBatchRegistry
    function exists(bytes32 batchId) external view returns (bool) {
        return _batches[batchId].quantity != 0;
    }

    /// @inheritdoc IBatchRegistry
    function getCertification(uint256 certificationId) external view returns (Certification memory cert) {
        cert = _certifications[certificationId];
        if (cert.certifier == address(0)) revert BatchRegistryUnknownCertification(certificationId);
    }

    /// @inheritdoc IBatchRegistry
    function isCertificationValid(uint256 certificationId) external view returns (bool) {
        Certification storage cert = _certifications[certificationId];
        return cert.certifier != address(0) && !cert.revoked && cert.validUntil > block.timestamp;
    }

    /// @inheritdoc IBatchRegistry
    function batchIdOf(uint64 cooperativeId, bytes32 lotCode) external pure returns (bytes32) {
        return _batchIdOf(cooperativeId, lotCode);
    }

    /// @dev Checks `info` and the contributors (current members of `cooperativeId` when
    /// `membersOnly`, else any account with an index: a merge may pay members who left), stores the
    /// batch and emits it.
    function _register(
        uint64 cooperativeId,
        address sender,
        BatchInfo calldata info,
        uint256[] calldata contributors,
        bool membersOnly
    ) private returns (bytes32 batchId) {
        if (info.quantity == 0) revert BatchRegistryZeroQuantity();
        if (info.productCode == bytes32(0)) revert BatchRegistryInvalidText("productCode");
        if (info.unit == bytes32(0)) revert BatchRegistryInvalidText("unit");
        if (bytes(info.origin).length > _MAX_TEXT) revert BatchRegistryInvalidText("origin");
        _checkTime(info.productionDate);
        batchId = _newBatchId(cooperativeId, info.lotCode);
        (bytes32 root, uint64 totalWeight, uint256[] memory wordIndices, uint256[] memory masks) = ContributorsMerkle
            .commit(contributors);
        if (membersOnly) {
            _checkMembers(cooperativeId, sender, wordIndices, masks);
        } else {
            uint256 last = contributors[contributors.length - 1] >> 64; // sorted: the highest index
            if (last >= registry.accountCount()) revert BatchRegistryUnknownAccount(last);
        }
        _batches[batchId] = Batch({
            cooperativeId: cooperativeId,
            quantity: info.quantity,
            drawn: 0,
            totalWeight: totalWeight,
            contributorsRoot: root
        });
        emit BatchRegistered(batchId, cooperativeId, sender, info, contributors, root, totalWeight);
    }

    /// @dev One call reads the bitmap words the contributors fall in; every bit they need must be set.
    function _checkMembers(
        uint64 cooperativeId,
        address sender,
        uint256[] memory wordIndices,
        uint256[] memory masks
    ) private view {
        (bool canAct, uint256 missing) = registry.checkContributors(cooperativeId, sender, wordIndices, masks);
        if (!canAct) revert BatchRegistryNotAuthorized(cooperativeId, sender);
        if (missing != type(uint256).max) revert BatchRegistryNotMember(cooperativeId, missing);
    }

    function _newBatchId(uint64 cooperativeId, bytes32 lotCode) private view returns (bytes32 batchId) {
        if (lotCode == bytes32(0) || uint96(uint256(lotCode)) != 0) revert BatchRegistryInvalidText("lotCode");
        batchId = _batchIdOf(cooperativeId, lotCode);
        if (_batches[batchId].quantity != 0) revert BatchRegistryDuplicateLot(cooperativeId, lotCode);
    }

    function _draw(bytes32 batchId, Batch storage batch, uint256 quantity) private {
        uint64 available = batch.quantity - batch.drawn;
        if (quantity > available) {
            // A split's children may add up past 64 bits: report the most a uint64 can say.
            uint64 requested = quantity > type(uint64).max ? type(uint64).max : uint64(quantity);
            revert BatchRegistryQuantityExceeded(batchId, available, requested);
        }
        batch.drawn += uint64(quantity);
    }

    function _existing(bytes32 batchId) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.quantity == 0) revert BatchRegistryUnknownBatch(batchId);
    }

    function _checkActor(uint64 cooperativeId, address account) private view {
        if (!registry.canActFor(cooperativeId, account)) revert BatchRegistryNotAuthorized(cooperativeId, account);
    }

    function _checkCertifier(address account) private view {
        if (!registry.hasRole(Roles.CERTIFIER, account)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(account, Roles.CERTIFIER);
        }
    }

    function _checkDrawer() private view {
        // msg.sender, not _msgSender(): the escrow calls directly, never through the forwarder.
        if (!registry.hasRole(Roles.DRAWER, msg.sender)) revert BatchRegistryNotDrawer(msg.sender);
    }

    function _checkContributorCount(uint256 count) private pure {
        if (count == 0 || count > MAX_CONTRIBUTORS) {
            revert BatchRegistryInvalidContributorCount(count, MAX_CONTRIBUTORS);
        }
    }

    function _checkTime(uint64 time) private view {
        if (time == 0 || time > block.timestamp) revert BatchRegistryInvalidTime(time);
    }

    function _batchIdOf(uint64 cooperativeId, bytes32 lotCode) private pure returns (bytes32) {
        return keccak256(abi.encode(cooperativeId, lotCode));
    }
}
