// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IBatchRegistry
 * @notice Product batches with their history, certifications, lineage and mass balance.
 *
 * A batch id is `keccak256(abi.encode(cooperativeId, lotCode))`: the lot code is unique per
 * cooperative by construction, and no separate lot index or counter has to be stored (that
 * saves two storage writes per registration; see {batchIdOf}).
 *
 * Short codes are fixed 32-byte words, not strings: the product code, the lot code and the unit are
 * UTF-8 text left-aligned and padded with zero bytes (a lot code at most 20 bytes, as GS1 AI 10).
 * A string costs a length word and an offset in calldata and in the log; three of them took a
 * registration past issue 16's 90,000 gas.
 *
 * Contributors (the members who delivered the goods, weighted by the quantity each delivered)
 * are given as packed words, one per contributor: `index << 64 | weight`, where `index` is the
 * member's account index in the {ICooperativeRegistry} (32 bits) and `weight` the quantity she
 * delivered (64 bits). They are emitted in full in {BatchRegistered} and committed on-chain as the
 * root of an OpenZeppelin simple Merkle tree of leaves `keccak256(abi.encode(word))`, built in the
 * order given (`SimpleMerkleTree.of(leaves, { sortLeaves: false })`; see {ContributorsMerkle}),
 * plus the total weight. Storage per batch is two slots whatever the number of contributors.
 *
 * Quantities are integers in the batch's unit (use small units such as g or ml where
 * precision matters). Mass balance: what splits, merges and sales draw from a batch never
 * exceeds its quantity.
 */
interface IBatchRegistry {
    /// @notice What a batch stores on-chain (two slots).
    struct Batch {
        uint64 cooperativeId;
        uint64 quantity;
        uint64 drawn;
        uint64 totalWeight;
        bytes32 contributorsRoot;
    }

    /// @notice Descriptive fields of a batch, emitted at registration and not stored.
    struct BatchInfo {
        bytes32 productCode; // e.g. "rose-water", "dates-mejhoul", as a padded word
        uint64 gtin; // GTIN-14 as a number, 0 when the product has none
        bytes32 lotCode; // unique per cooperative, 1..20 bytes (GS1 AI 10)
        uint64 quantity;
        bytes32 unit; // e.g. "kg", "l", "piece", as a padded word
        string origin; // place of production
        uint64 productionDate; // unix seconds
        bytes32 metadataHash; // hash of the off-chain metadata document
    }

    /// @notice A quantity drawn from a parent batch by a merge.
    struct Draw {
        bytes32 batchId;
        uint64 quantity;
    }

    /// @notice A child lot created by a split.
    struct ChildLot {
        bytes32 lotCode;
        uint64 quantity;
        bytes32 metadataHash;
    }

    /// @notice A certification of a batch by a CERTIFIER.
    struct Certification {
        bytes32 batchId;
        address certifier;
        uint64 validUntil;
        bool revoked;
    }

    /// @dev `batchId` does not name a registered batch.
    error BatchRegistryUnknownBatch(bytes32 batchId);
    /// @dev A batch with this lot code already exists in the cooperative.
    error BatchRegistryDuplicateLot(uint64 cooperativeId, bytes32 lotCode);
    /// @dev The quantity is zero.
    error BatchRegistryZeroQuantity();
    /// @dev Drawing `requested` from `batchId` would exceed what it still holds.
    error BatchRegistryQuantityExceeded(bytes32 batchId, uint64 available, uint64 requested);
    /// @dev No contributors, or more than {MAX_CONTRIBUTORS}.
    error BatchRegistryInvalidContributorCount(uint256 count, uint256 max);
    /// @dev Contributor at `index` is not a 32-bit account index and a 64-bit weight (its word has bits above 96).
    error BatchRegistryInvalidContributor(uint256 index);
    /// @dev The account of index `accountIndex` is not a current member of `cooperativeId`.
    error BatchRegistryNotMember(uint64 cooperativeId, uint256 accountIndex);
    /// @dev No account holds index `accountIndex` (in a merge, contributors need only have an index).
    error BatchRegistryUnknownAccount(uint256 accountIndex);
    /// @dev Contributor at `index` has weight zero.
    error BatchRegistryZeroWeight(uint256 index);
    /// @dev Contributors must be listed by strictly ascending account index (this also rules out duplicates).
    error BatchRegistryContributorsNotSorted(uint256 index);
    /// @dev The sum of the weights does not fit the 64-bit total.
    error BatchRegistryWeightOverflow();
    /// @dev A text field is empty or too long.
    error BatchRegistryInvalidText(string field);
    /// @dev The production date or event time lies in the future or is zero.
    error BatchRegistryInvalidTime(uint64 time);
    /// @dev `account` may not act for `cooperativeId` (neither its admin nor a member).
    error BatchRegistryNotAuthorized(uint64 cooperativeId, address account);
    /// @dev `certificationId` does not name a certification.
    error BatchRegistryUnknownCertification(uint256 certificationId);
    /// @dev The certification was already revoked.
    error BatchRegistryCertificationRevoked(uint256 certificationId);
    /// @dev Only the certifier who issued a certification may revoke it.
    error BatchRegistryNotIssuer(uint256 certificationId, address account);
    /// @dev A split needs at least one child and at most {MAX_CHILDREN}; a merge at least one parent and at most {MAX_PARENTS}.
    error BatchRegistryInvalidLineageCount(uint256 count, uint256 max);
    /// @dev The same parent batch appears twice in a merge.
    error BatchRegistryDuplicateParent(bytes32 batchId);
    /// @dev Only the sale escrow (DRAWER_ROLE) may draw quantities for sales.
    error BatchRegistryNotDrawer(address account);
    /// @dev Returning `quantity` to `batchId` would exceed what was drawn.
    error BatchRegistryRestoreExceeded(bytes32 batchId, uint64 drawn, uint64 quantity);

    /**
     * @dev Emitted for every new batch: registration, each child of a split and the output of a
     * merge. `info.quantity` is the batch quantity. `contributors` is the full list that
     * `contributorsRoot` commits to, in tree order.
     */
    event BatchRegistered(
        bytes32 indexed batchId,
        uint64 indexed cooperativeId,
        address indexed registeredBy,
        BatchInfo info,
        uint256[] contributors,
        bytes32 contributorsRoot,
        uint64 totalWeight
    );
    /// @dev Emitted when a lifecycle step (GS1 CBV business step or our vocabulary URI) is recorded.
    event BatchEvent(
        bytes32 indexed batchId,
        address indexed recordedBy,
        string bizStep,
        string location,
        uint64 eventTime,
        bytes32 documentHash
    );
    /// @dev Emitted when a CERTIFIER certifies a batch.
    event BatchCertified(
        bytes32 indexed batchId,
        uint256 indexed certificationId,
        address indexed certifier,
        string scheme,
        bytes32 certificateHash,
        uint64 validUntil
    );
    /// @dev Emitted when a certification is revoked.
    event CertificationRevoked(
        bytes32 indexed batchId,
        uint256 indexed certificationId,
        address indexed certifier,
        bytes32 reasonHash
    );
    /**
     * @dev Emitted when a batch is split into child lots. Each child shares the parent's
     * contributors commitment and inherits its product, GTIN, unit, origin and production date.
     * A {BatchRegistered} event with an empty contributor list follows for each child.
     */
    event BatchSplit(bytes32 indexed parentId, address indexed splitBy, bytes32[] childIds, uint64[] quantities);
    /**
     * @dev Emitted when parents are merged or transformed into a new batch (registered by the
     * {BatchRegistered} event emitted just before, with its own contributor list).
     */
    event BatchesMerged(bytes32 indexed batchId, address indexed mergedBy, Draw[] inputs);
    /// @dev Emitted when the sale escrow draws from (or returns quantity to) a batch.
    event QuantityDrawn(bytes32 indexed batchId, uint64 quantity, uint64 drawnTotal);
    /// @dev Emitted when quantity drawn for a sale that did not happen returns to the batch.
    event QuantityRestored(bytes32 indexed batchId, uint64 quantity, uint64 drawnTotal);

    /**
     * @notice Registers a batch with its contributors.
     * @dev Requirements:
     * - the caller is the admin or a member of `cooperativeId`;
     * - `info.quantity` > 0; `info.lotCode` not zero, at most 20 bytes (the last 12 of the word
     *   zero) and not used in the cooperative; `info.productCode` and `info.unit` not zero;
     *   `info.origin` at most 128 bytes; `info.productionDate` not zero nor in the future (limits
     *   count bytes, not characters);
     * - 1..{MAX_CONTRIBUTORS} contributors as packed words (see the contract notes), strictly
     *   ascending by account index, each a current member of `cooperativeId` with a weight > 0,
     *   the weights summing to at most 2^64-1. Membership is read from the registry's bitmap, one
     *   word per 256 indices, in one call.
     *
     * Emits a {BatchRegistered} event.
     * @return batchId `batchIdOf(cooperativeId, info.lotCode)`.
     */
    function registerBatch(
        uint64 cooperativeId,
        BatchInfo calldata info,
        uint256[] calldata contributors
    ) external returns (bytes32 batchId);

    /**
     * @notice Records a lifecycle step of a batch.
     * @dev `bizStep` is a CBV 2.0 business step ("packing", "shipping", ...) or a URI of our own
     * vocabulary for steps CBV lacks (harvesting, drying, distilling); the gateway validates it.
     * Requirements: the batch exists; the caller is the admin or a member of its cooperative;
     * `bizStep` is 1..256 bytes; `eventTime` is not zero nor in the future.
     *
     * Emits a {BatchEvent} event.
     */
    function recordEvent(
        bytes32 batchId,
        string calldata bizStep,
        string calldata location,
        uint64 eventTime,
        bytes32 documentHash
    ) external;

    /**
     * @notice Certifies a batch under a scheme (a label such as "AOP Rose de Kelaat M'Gouna-Dades",
     * organic, food safety).
     * @dev Requirements: the caller holds CERTIFIER_ROLE; the batch exists; `scheme` is 1..128
     * bytes; `validUntil` is in the future.
     *
     * Emits a {BatchCertified} event.
     * @return certificationId sequential, counting from 1.
     */
    function certify(
        bytes32 batchId,
        string calldata scheme,
        bytes32 certificateHash,
        uint64 validUntil
    ) external returns (uint256 certificationId);

    /**
     * @notice Revokes a certification.
     * @dev Requirements: the caller issued it and still holds CERTIFIER_ROLE; it is not revoked.
     *
     * Emits a {CertificationRevoked} event.
     */
    function revokeCertification(uint256 certificationId, bytes32 reasonHash) external;

    /**
     * @notice Splits quantity of a batch into child lots of the same cooperative.
     * @dev Children share the parent's contributors commitment, so the members of the parent are
     * paid for sales of any child. Requirements: the caller is the admin or a member of the
     * parent's cooperative; 1..{MAX_CHILDREN} children, each with a quantity > 0 and a lot code
     * not used in the cooperative; the children's total fits in what the parent still holds.
     *
     * Emits a {BatchRegistered} event per child, then a {BatchSplit} event.
     * @return childIds the children's batch ids, in input order.
     */
    function splitBatch(bytes32 parentId, ChildLot[] calldata children) external returns (bytes32[] memory childIds);

    /**
     * @notice Merges or transforms quantities of parent batches into a new batch (for instance
     * fresh rose petals distilled into rose water). Parents may belong to several cooperatives
     * of a union.
     * @dev The new batch's contributors are computed off-chain from the parents' emitted lists by
     * the rule in `scripts/lib/contributors.ts` (`mergeContributors`): each parent contributor's
     * weight times the quantity drawn from that parent, divided by that parent's total weight,
     * rounded down, summed per account, zeros dropped, sorted by account index. The verifier re-checks it.
     * Requirements: the caller is the admin or a member of `cooperativeId` and of every parent's
     * cooperative; 1..{MAX_PARENTS} distinct existing parents, each draw > 0 and within what the
     * parent holds; `info` and `contributors` as for {registerBatch}, except that contributors
     * need not be current members (a member who left keeps the right to be paid for past work):
     * they need only have an account index ({BatchRegistryUnknownAccount} otherwise).
     *
     * Emits a {BatchRegistered} event, then a {BatchesMerged} event.
     */
    function mergeBatches(
        uint64 cooperativeId,
        Draw[] calldata inputs,
        BatchInfo calldata info,
        uint256[] calldata contributors
    ) external returns (bytes32 batchId);

    /**
     * @notice Draws quantity of a batch for a sale.
     * @dev Requirements: the caller (`msg.sender`) holds DRAWER_ROLE (the sale escrow); `quantity` > 0
     * and the batch holds at least that much. Emits a {QuantityDrawn} event.
     */
    function drawForSale(bytes32 batchId, uint64 quantity) external returns (Batch memory);

    /**
     * @notice Returns quantity drawn for a sale that was cancelled before shipping.
     * @dev Requirements: the caller holds DRAWER_ROLE; `quantity` ≤ drawn. Emits a {QuantityRestored} event.
     */
    function restoreForSale(bytes32 batchId, uint64 quantity) external;

    /// @notice The batch (reverts with {BatchRegistryUnknownBatch} if unknown).
    function getBatch(bytes32 batchId) external view returns (Batch memory);

    /// @notice Whether `batchId` names a batch.
    function exists(bytes32 batchId) external view returns (bool);

    /// @notice The certification (reverts with {BatchRegistryUnknownCertification} if unknown).
    function getCertification(uint256 certificationId) external view returns (Certification memory);

    /// @notice Whether the certification exists, is not revoked and has not expired.
    function isCertificationValid(uint256 certificationId) external view returns (bool);

    /// @notice The id of the batch with `lotCode` in `cooperativeId`.
    function batchIdOf(uint64 cooperativeId, bytes32 lotCode) external pure returns (bytes32);
}
