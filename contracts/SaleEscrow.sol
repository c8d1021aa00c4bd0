// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ISaleEscrow} from "./interfaces/ISaleEscrow.sol";
import {IBatchRegistry} from "./interfaces/IBatchRegistry.sol";
import {ICooperativeRegistry} from "./interfaces/ICooperativeRegistry.sol";
import {BatchRegistry} from "./BatchRegistry.sol";
import {CooperativeRegistry} from "./CooperativeRegistry.sol";
import {ContributorsMerkle} from "./libraries/ContributorsMerkle.sol";
import {RevenueSplit} from "./libraries/RevenueSplit.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title SaleEscrow
 * @notice Escrow of buyer payments and the fair split of every sale. See {ISaleEscrow}.
 * @dev Every function that moves money out is `nonReentrant` and follows checks, effects, event,
 * then the transfer. Balances are this contract's own records, never `address(this).balance`.
 */
contract SaleEscrow is ISaleEscrow, ERC2771Context, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Highest platform fee (5%).
    uint16 public constant MAX_FEE_BPS = 500;
    /// @notice Shortest shipping period or dispute window (one day).
    uint32 public constant MIN_PERIOD = 1 days;
    /// @notice Longest shipping period or dispute window (180 days).
    uint32 public constant MAX_PERIOD = 180 days;
    uint16 private constant _BPS = 10_000;
    /// @notice Gas given to an ether payment made by {payAll}; a payee needing more is credited instead.
    uint256 public constant PUSH_GAS = 30_000;

    /// @notice The registry of cooperatives and platform roles.
    CooperativeRegistry public immutable registry;
    /// @notice The registry of batches (mass balance, contributors commitment).
    BatchRegistry public immutable batches;

    uint16 private _feeBps;
    address private _feeRecipient;
    uint256 private _saleCount;
    mapping(uint256 saleId => Sale) private _sales;
    mapping(address token => bool) private _allowedTokens;
    /// @dev What a batch's members are due in a token and what a claim needs of the batch, one word.
    mapping(bytes32 batchId => mapping(address token => uint256 pot)) private _pots;
    /// @dev What each contributor has claimed, two per word: the contributor of account index `i`
    /// holds the low half of word `i >> 1` if `i` is even, the high half if odd (amounts ≤ 2^128 − 1,
    /// as every released total is). Neighbours share a word, so half the first claims of a batch
    /// update a word instead of creating one.
    mapping(bytes32 batchId => mapping(address token => mapping(uint256 pair => uint256))) private _claimedPairs;
    /// @dev A batch's contributors root, copied from the batch registry when its first sale is created
    /// (contributors never change), so that a claim reads it here instead of calling the registry.
    mapping(bytes32 batchId => bytes32) private _roots;
    mapping(address token => mapping(address account => uint256)) private _credits;
    mapping(uint64 cooperativeId => mapping(address token => uint256)) private _reserves;
    /// @dev Currency (ISO 4217) and decimals of each settlement token, recorded when it is allowed.
    mapping(address token => Currency) private _currencies;
    mapping(uint64 cooperativeId => address) private _payoutAccounts;
    mapping(bytes32 batchId => BatchSales) private _batchSales;
    mapping(bytes32 batchId => mapping(address token => uint256)) private _roundedOff;

    /// @dev Sales ever created of a batch (so closing can demand them all), whether it is closed and
    /// its total weight (copied when its first sale is created, to start each token's {Pot}): one word.
    struct BatchSales {
        uint64 count;
        bool closed;
        uint64 totalWeight;
    }

    /// @dev A pot, per batch and token, is one word: the net released to members so far (cumulative,
    /// bits 0–127) and, for claims, the batch's total weight (128–191) and cooperative (192–255),
    /// set at the first release in the token. Read and written as a word: a release pays one read.
    uint256 private constant _LOW128 = type(uint128).max;

    struct Currency {
        bytes3 code;
        uint8 decimals;
    }

    constructor(
        CooperativeRegistry registry_,
        BatchRegistry batches_,
        address trustedForwarder,
        address feeRecipient_,
        uint16 feeBps_
    ) ERC2771Context(trustedForwarder) {
        if (
            address(registry_) == address(0) ||
            address(batches_) == address(0) ||
            trustedForwarder == address(0) ||
            feeRecipient_ == address(0)
        ) revert SaleEscrowZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert SaleEscrowInvalidBps(feeBps_, MAX_FEE_BPS);
        registry = registry_;
        batches = batches_;
        _feeRecipient = feeRecipient_;
        _feeBps = feeBps_;
    }

    /// @inheritdoc ISaleEscrow
    function createSale(
        bytes32 batchId,
        uint64 quantity,
        address token,
        uint128 price,
        address buyer,
        uint32 shippingPeriod,
        uint32 disputeWindow
    ) external whenNotPaused returns (uint256 saleId) {
        if (quantity == 0) revert SaleEscrowZeroQuantity();
        if (price == 0) revert SaleEscrowZeroPrice();
        if (token != address(0) && !_allowedTokens[token]) revert SaleEscrowTokenNotAllowed(token);
        _checkPeriod(shippingPeriod);
        _checkPeriod(disputeWindow);
        IBatchRegistry.Batch memory batch = batches.getBatch(batchId);
        (address admin, uint16 reserveBps) = registry.adminAndReserve(batch.cooperativeId);
        address sender = _msgSender();
        saleId = _saleCount + 1;
        if (sender != admin) revert SaleEscrowNotSeller(saleId, sender);

        _countSale(batchId, batch);
        _saleCount = saleId;
        _sales[saleId] = Sale({
            batchId: batchId,
            seller: sender,
            cooperativeId: batch.cooperativeId,
            feeBps: _feeBps,
            reserveBps: reserveBps,
            buyer: buyer,
            fundedAt: 0,
            state: SaleState.Created,
            token: token,
            shippingPeriod: shippingPeriod,
            disputeWindow: disputeWindow,
            quantity: quantity,
            shippedAt: 0,
            price: price
        });
        _emitSaleCreated(saleId, _sales[saleId]);
        // The batch registry is ours (no callback into this contract): drawing last keeps the
        // emitted order natural (SaleCreated, then QuantityDrawn) without any reentrancy concern.
        batches.drawForSale(batchId, quantity);
    }

    /// @dev Counts a new sale of `batchId` (refused once closed); at its first, copies what claims need.
    function _countSale(bytes32 batchId, IBatchRegistry.Batch memory batch) private {
        BatchSales storage batchSales_ = _batchSales[batchId];
        if (batchSales_.closed) revert SaleEscrowBatchClosed(batchId);
        uint64 count = batchSales_.count;
        if (count == 0) {
            batchSales_.totalWeight = batch.totalWeight;
            _roots[batchId] = batch.contributorsRoot;
        }
        batchSales_.count = count + 1;
    }

    /// @inheritdoc ISaleEscrow
    function fund(uint256 saleId) external payable whenNotPaused nonReentrant {
        _fund(saleId);
    }

    /// @inheritdoc ISaleEscrow
    function fundWithPermit(
        uint256 saleId,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external whenNotPaused nonReentrant {
        Sale storage sale = _sale(saleId);
        if (sale.token == address(0)) revert SaleEscrowTokenNotAllowed(address(0));
        // A permit seen in the mempool can be used by anyone first: then the allowance it gave is
        // already there and the transfer below proves it (the usual front-run-safe pattern).
        try IERC20Permit(sale.token).permit(_msgSender(), address(this), sale.price, deadline, v, r, s) {} catch {}
        _fund(saleId);
    }

    function _fund(uint256 saleId) private {
        Sale storage sale = _inState(saleId, SaleState.Created);
        address sender = _msgSender();
        if (sale.buyer != address(0) && sale.buyer != sender) revert SaleEscrowReservedForBuyer(saleId, sale.buyer);
        address token = sale.token;
        uint256 price = sale.price;
        if (token != address(0) && !_allowedTokens[token]) revert SaleEscrowTokenNotAllowed(token);
        if (token == address(0)) {
            if (msg.value != price) revert SaleEscrowWrongPayment(price, msg.value);
        } else if (msg.value != 0) {
            revert SaleEscrowUnexpectedEth();
        }

        uint64 shipBy = uint64(block.timestamp) + sale.shippingPeriod;
        sale.buyer = sender;
        sale.fundedAt = uint64(block.timestamp);
        sale.state = SaleState.Funded;
        emit SaleFunded(saleId, sender, token, price, shipBy);

        if (token != address(0)) {
            // Pull the price and count what actually arrived: a token that takes a fee on transfer
            // would leave the escrow short of what it owes, so such a payment is refused.
            IERC20 erc20 = IERC20(token);
            uint256 before = erc20.balanceOf(address(this));
            erc20.safeTransferFrom(sender, address(this), price);
            uint256 received = erc20.balanceOf(address(this)) - before;
            if (received != price) revert SaleEscrowTransferShortfall(price, received);
        }
    }

    /// @inheritdoc ISaleEscrow
    function markShipped(uint256 saleId, bytes32 documentHash) external {
        Sale storage sale = _inState(saleId, SaleState.Funded);
        _onlySeller(saleId, sale);
        uint64 shipBy = sale.fundedAt + sale.shippingPeriod;
        if (block.timestamp > shipBy) revert SaleEscrowDeadline(saleId, shipBy);
        sale.shippedAt = uint64(block.timestamp);
        sale.state = SaleState.Shipped;
        emit SaleShipped(saleId, documentHash, uint64(block.timestamp) + sale.disputeWindow);
    }

    /// @inheritdoc ISaleEscrow
    function confirmDelivery(uint256 saleId) external {
        Sale storage sale = _inState(saleId, SaleState.Shipped);
        address sender = _msgSender();
        if (sender != sale.buyer) revert SaleEscrowNotBuyer(saleId, sender);
        sale.state = SaleState.Released;
        emit DeliveryConfirmed(saleId, sender);
        _release(saleId, sale, sale.price);
    }

    /// @inheritdoc ISaleEscrow
    function release(uint256 saleId) external {
        Sale storage sale = _inState(saleId, SaleState.Shipped);
        uint64 disputeUntil = sale.shippedAt + sale.disputeWindow;
        if (block.timestamp <= disputeUntil) revert SaleEscrowDeadline(saleId, disputeUntil);
        sale.state = SaleState.Released;
        _release(saleId, sale, sale.price);
    }

    /// @inheritdoc ISaleEscrow
    function openDispute(uint256 saleId, bytes32 reasonHash) external {
        Sale storage sale = _inState(saleId, SaleState.Shipped);
        address sender = _msgSender();
        if (sender != sale.buyer) revert SaleEscrowNotBuyer(saleId, sender);
        uint64 disputeUntil = sale.shippedAt + sale.disputeWindow;
        if (block.timestamp > disputeUntil) revert SaleEscrowDeadline(saleId, disputeUntil);
        sale.state = SaleState.Disputed;
        emit DisputeOpened(saleId, sender, reasonHash);
    }

    /// @inheritdoc ISaleEscrow
    function resolveDispute(uint256 saleId, uint16 refundBps, bytes32 rulingHash) external {
        address sender = _msgSender();
        if (!registry.hasRole(Roles.ARBITER, sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(sender, Roles.ARBITER);
        }
        Sale storage sale = _inState(saleId, SaleState.Disputed);
        if (refundBps > _BPS) revert SaleEscrowInvalidBps(refundBps, _BPS);
        sale.state = SaleState.Resolved;
        emit DisputeResolved(saleId, sender, refundBps, rulingHash);
        uint256 price = sale.price;
        uint256 refund = (price * refundBps) / _BPS;
        if (refund != 0) _refund(saleId, sale, refund);
        if (price - refund != 0) _release(saleId, sale, price - refund);
    }

    /// @inheritdoc ISaleEscrow
    function cancel(uint256 saleId) external {
        Sale storage sale = _sale(saleId);
        address sender = _msgSender();
        SaleState state = sale.state;
        if (state == SaleState.Created) {
            _onlySeller(saleId, sale);
            sale.state = SaleState.Cancelled;
            emit SaleCancelled(saleId, sender);
        } else if (state == SaleState.Funded) {
            if (sender == sale.buyer) {
                uint64 shipBy = sale.fundedAt + sale.shippingPeriod;
                if (block.timestamp <= shipBy) revert SaleEscrowDeadline(saleId, shipBy);
            } else {
                _onlySeller(saleId, sale);
            }
            sale.state = SaleState.Refunded;
            emit SaleCancelled(saleId, sender);
            _refund(saleId, sale, sale.price);
        } else {
            revert SaleEscrowInvalidState(saleId, state, SaleState.Funded);
        }
        batches.restoreForSale(sale.batchId, sale.quantity);
    }

    /// @inheritdoc ISaleEscrow
    function claim(
        bytes32 batchId,
        address token,
        uint256 contributor,
        bytes32[] calldata proof
    ) external nonReentrant {
        _claimAndPay(batchId, token, contributor, proof, true);
    }

    /// @inheritdoc ISaleEscrow
    function claimFor(
        bytes32 batchId,
        address token,
        uint256 contributor,
        bytes32[] calldata proof
    ) external nonReentrant {
        _claimAndPay(batchId, token, contributor, proof, false);
    }

    /// @inheritdoc ISaleEscrow
    function claimMany(address token, BatchClaim[] calldata claims) external nonReentrant {
        if (claims.length == 0) revert SaleEscrowMixedClaims(0);
        (address account, address to, uint64 cooperativeId, uint256 total) = _claimOne(
            claims[0].batchId,
            token,
            claims[0].contributor,
            claims[0].proof
        );
        if (to != account && total != 0) emit ClaimRouted(claims[0].batchId, account, cooperativeId, to, total);
        for (uint256 i = 1; i < claims.length; ++i) {
            BatchClaim calldata c = claims[i];
            (address a, , uint64 coop, uint256 amount) = _claimOne(c.batchId, token, c.contributor, c.proof);
            if (a != account || coop != cooperativeId) revert SaleEscrowMixedClaims(i);
            if (to != account && amount != 0) emit ClaimRouted(c.batchId, account, cooperativeId, to, amount);
            total += amount;
        }
        if (total == 0) revert SaleEscrowNothingDue(account);
        _pay(token, to, total);
    }

    /// @inheritdoc ISaleEscrow
    function payAll(bytes32 batchId, address token, uint256[] calldata contributors) external nonReentrant {
        IBatchRegistry.Batch memory batch = batches.getBatch(batchId);
        if (contributors.length == 0 || ContributorsMerkle.rootOf(contributors) != batch.contributorsRoot) {
            revert SaleEscrowWrongContributors(batchId);
        }
        uint256[] memory payees = registry.payeesOf(contributors);
        uint256 total = (_pots[batchId][token] & _LOW128);
        for (uint256 i = 0; i < contributors.length; ++i) {
            address account = address(uint160(payees[i]));
            uint256 amount = _book(batchId, token, account, contributors[i], total, batch.totalWeight);
            if (amount == 0) continue;
            address to = _routeOf(batch.cooperativeId, account, uint64(payees[i] >> 160));
            if (to != account) emit ClaimRouted(batchId, account, batch.cooperativeId, to, amount);
            if (!_tryPay(token, to, amount)) {
                _credits[token][to] += amount;
                emit PaymentDeferred(token, to, amount);
            }
        }
    }

    /// @inheritdoc ISaleEscrow
    function withdraw(address token, address account) external nonReentrant {
        uint256 amount = _credits[token][account];
        if (amount == 0) revert SaleEscrowNothingDue(account);
        _credits[token][account] = 0;
        emit Withdrawn(token, account, amount);
        _pay(token, account, amount);
    }

    /// @inheritdoc ISaleEscrow
    function withdrawReserve(uint64 cooperativeId, address token, address to, uint256 amount) external nonReentrant {
        address sender = _msgSender();
        if (!registry.isCooperativeAdmin(cooperativeId, sender)) {
            revert ICooperativeRegistry.CooperativeRegistryNotCooperativeAdmin(cooperativeId, sender);
        }
        if (to == address(0)) revert SaleEscrowZeroAddress();
        uint256 available = _reserves[cooperativeId][token];
        if (amount == 0 || amount > available) {
            revert SaleEscrowInsufficientReserve(cooperativeId, token, available, amount);
        }
        _reserves[cooperativeId][token] = available - amount;
        emit ReserveWithdrawn(cooperativeId, token, to, amount);
        _pay(token, to, amount);
    }

    /// @inheritdoc ISaleEscrow
    function closeBatch(
        bytes32 batchId,
        uint256[] calldata saleIds,
        uint256[] calldata contributors
    ) external nonReentrant {
        IBatchRegistry.Batch memory batch = batches.getBatch(batchId);
        address sender = _msgSender();
        if (!registry.isCooperativeAdmin(batch.cooperativeId, sender)) {
            revert ICooperativeRegistry.CooperativeRegistryNotCooperativeAdmin(batch.cooperativeId, sender);
        }
        BatchSales storage batchSales_ = _batchSales[batchId];
        if (batchSales_.closed) revert SaleEscrowBatchClosed(batchId);
        if (saleIds.length != batchSales_.count) {
            revert SaleEscrowIncompleteSales(batchId, saleIds.length, batchSales_.count);
        }
        if (contributors.length == 0) revert SaleEscrowWrongContributors(batchId);
        if (ContributorsMerkle.rootOf(contributors) != batch.contributorsRoot) {
            revert SaleEscrowWrongContributors(batchId);
        }
        address[] memory tokens = _settledTokens(batchId, saleIds);
        batchSales_.closed = true;
        for (uint256 t = 0; t < tokens.length; ++t) {
            _roundOff(batchId, batch.cooperativeId, batch.totalWeight, tokens[t], contributors);
        }
    }

    /// @dev Books to the reserve what rounding the members' shares of the batch down leaves in `token`.
    function _roundOff(
        bytes32 batchId,
        uint64 cooperativeId,
        uint64 totalWeight,
        address token,
        uint256[] calldata contributors
    ) private {
        uint256 total = (_pots[batchId][token] & _LOW128);
        uint256 owed;
        for (uint256 i = 0; i < contributors.length; ++i) {
            owed += RevenueSplit.share(total, uint64(contributors[i]), totalWeight);
        }
        uint256 leftover = total - owed;
        _roundedOff[batchId][token] = leftover;
        if (leftover != 0) _reserves[cooperativeId][token] += leftover;
        emit BatchClosed(batchId, cooperativeId, token, leftover);
    }

    /// @inheritdoc ISaleEscrow
    function setTokenAllowed(address token, bool allowed) external {
        _onlyPlatformAdmin();
        if (token == address(0)) revert SaleEscrowZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @inheritdoc ISaleEscrow
    function setSettlementToken(address token, bytes3 currency) external {
        _onlyPlatformAdmin();
        if (token == address(0)) revert SaleEscrowZeroAddress();
        for (uint256 i = 0; i < 3; ++i) {
            if (currency[i] < "A" || currency[i] > "Z") revert SaleEscrowInvalidCurrency(currency);
        }
        uint8 decimals = IERC20Metadata(token).decimals();
        _allowedTokens[token] = true;
        _currencies[token] = Currency(currency, decimals);
        emit TokenAllowed(token, true);
        emit SettlementTokenSet(token, currency, decimals);
    }

    /// @inheritdoc ISaleEscrow
    function setPayoutAccount(uint64 cooperativeId, address account) external {
        address sender = _msgSender();
        if (!registry.isCooperativeAdmin(cooperativeId, sender)) {
            revert ICooperativeRegistry.CooperativeRegistryNotCooperativeAdmin(cooperativeId, sender);
        }
        if (account == address(0)) revert SaleEscrowZeroAddress();
        _payoutAccounts[cooperativeId] = account;
        emit PayoutAccountSet(cooperativeId, account);
    }

    /// @inheritdoc ISaleEscrow
    function setPaidThroughCooperative(uint64 cooperativeId, bool through) external {
        address sender = _msgSender();
        // Kept beside her account in the registry (one read for a claim): one cooperative at a time.
        uint64 current = registry.payoutRouteOf(sender);
        if (through) {
            if (!registry.isMember(cooperativeId, sender)) revert SaleEscrowNotMember(cooperativeId, sender);
            if (_payoutAccounts[cooperativeId] == address(0)) revert SaleEscrowNoPayoutAccount(cooperativeId);
            if (current != 0 && current != cooperativeId) emit PayoutRouteChosen(current, sender, false);
            registry.setPayoutRoute(sender, cooperativeId);
        } else if (current == cooperativeId) {
            registry.setPayoutRoute(sender, 0);
        }
        emit PayoutRouteChosen(cooperativeId, sender, through);
    }

    /// @inheritdoc ISaleEscrow
    function setFeeBps(uint16 newFeeBps) external {
        _onlyPlatformAdmin();
        if (newFeeBps > MAX_FEE_BPS) revert SaleEscrowInvalidBps(newFeeBps, MAX_FEE_BPS);
        uint16 previous = _feeBps;
        _feeBps = newFeeBps;
        emit FeeChanged(previous, newFeeBps);
    }

    /// @inheritdoc ISaleEscrow
    function setFeeRecipient(address recipient) external {
        _onlyPlatformAdmin();
        if (recipient == address(0)) revert SaleEscrowZeroAddress();
        address previous = _feeRecipient;
        _feeRecipient = recipient;
        emit FeeRecipientChanged(previous, recipient);
    }

    /// @inheritdoc ISaleEscrow
    function pause() external {
        _onlyPlatformAdmin();
        _pause();
    }

    /// @inheritdoc ISaleEscrow
    function unpause() external {
        _onlyPlatformAdmin();
        _unpause();
    }

    /// @inheritdoc ISaleEscrow
    function getSale(uint256 saleId) external view returns (Sale memory) {
        return _sale(saleId);
    }

    /// @inheritdoc ISaleEscrow
    function claimable(bytes32 batchId, address token, address account, uint64 weight) external view returns (uint256) {
        IBatchRegistry.Batch memory batch = batches.getBatch(batchId);
        if (weight > batch.totalWeight) return 0;
        uint256 due = RevenueSplit.share((_pots[batchId][token] & _LOW128), weight, batch.totalWeight);
        uint256 paid = _claimedOf(batchId, token, account);
        return due > paid ? due - paid : 0;
    }

    /// @inheritdoc ISaleEscrow
    function released(bytes32 batchId, address token) external view returns (uint256) {
        return (_pots[batchId][token] & _LOW128);
    }

    /// @inheritdoc ISaleEscrow
    function claimed(bytes32 batchId, address token, address account) external view returns (uint256) {
        return _claimedOf(batchId, token, account);
    }

    /// @inheritdoc ISaleEscrow
    function credited(address token, address account) external view returns (uint256) {
        return _credits[token][account];
    }

    /// @inheritdoc ISaleEscrow
    function reserveOf(uint64 cooperativeId, address token) external view returns (uint256) {
        return _reserves[cooperativeId][token];
    }

    /// @inheritdoc ISaleEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return token == address(0) || _allowedTokens[token];
    }

    /// @inheritdoc ISaleEscrow
    function currencyOf(address token) external view returns (bytes3 currency, uint8 decimals) {
        if (token == address(0)) return ("ETH", 18);
        Currency memory c = _currencies[token];
        return (c.code, c.decimals);
    }

    /// @inheritdoc ISaleEscrow
    function batchSales(bytes32 batchId) external view returns (uint64 count, bool closed) {
        BatchSales memory b = _batchSales[batchId];
        return (b.count, b.closed);
    }

    /// @inheritdoc ISaleEscrow
    function roundedOff(bytes32 batchId, address token) external view returns (uint256) {
        return _roundedOff[batchId][token];
    }

    /// @inheritdoc ISaleEscrow
    function payoutAccountOf(uint64 cooperativeId) external view returns (address) {
        return _payoutAccounts[cooperativeId];
    }

    /// @inheritdoc ISaleEscrow
    function paidThroughCooperative(uint64 cooperativeId, address member) external view returns (bool) {
        return cooperativeId != 0 && registry.payoutRouteOf(member) == cooperativeId;
    }

    /// @inheritdoc ISaleEscrow
    function saleCount() external view returns (uint256) {
        return _saleCount;
    }

    /// @notice The platform fee for new sales, in basis points.
    function feeBps() external view returns (uint16) {
        return _feeBps;
    }

    /// @notice The account credited with platform fees.
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    function _emitSaleCreated(uint256 saleId, Sale storage sale) private {
        emit SaleCreated(
            saleId,
            sale.batchId,
            sale.cooperativeId,
            sale.seller,
            sale.buyer,
            sale.token,
            sale.price,
            sale.quantity,
            sale.feeBps,
            sale.reserveBps,
            sale.shippingPeriod,
            sale.disputeWindow
        );
    }

    /// @dev Splits `gross` and books it: O(1) whatever the number of contributors.
    function _release(uint256 saleId, Sale storage sale, uint256 gross) private {
        (uint256 fee, uint256 reserve, uint256 net) = RevenueSplit.split(gross, sale.feeBps, sale.reserveBps);
        bytes32 batchId = sale.batchId;
        address token = sale.token;
        if (fee != 0) _credits[token][_feeRecipient] += fee;
        if (reserve != 0) _reserves[sale.cooperativeId][token] += reserve;
        // One word read and written (see {Pot}): released in the low 128 bits.
        uint256 pot = _pots[batchId][token];
        uint256 total = (pot & _LOW128) + net;
        if (total > _LOW128) revert SaleEscrowReleasedOverflow(batchId, token);
        if (pot >> 128 == 0) {
            // The batch's first release in this token: the pot learns what claims need of the batch.
            pot = (uint256(sale.cooperativeId) << 192) | (uint256(_batchSales[batchId].totalWeight) << 128);
        }
        _pots[batchId][token] = (pot & ~_LOW128) | total;
        emit SaleReleased(saleId, batchId, token, gross, fee, reserve, net, total);
    }

    function _refund(uint256 saleId, Sale storage sale, uint256 amount) private {
        address buyer = sale.buyer;
        address token = sale.token;
        _credits[token][buyer] += amount;
        emit SaleRefunded(saleId, buyer, token, amount);
    }

    /// @dev Checks the proof and books what is due to the contributor in `batchId` (zero: nothing);
    /// `to` is where she is paid (see {_routeOf}).
    function _claimOne(
        bytes32 batchId,
        address token,
        uint256 contributor,
        bytes32[] calldata proof
    ) private returns (address account, address to, uint64 cooperativeId, uint256 amount) {
        bytes32 root = _roots[batchId];
        uint256 pot = _pots[batchId][token];
        if (root == bytes32(0) || pot == 0) {
            // Nothing due: a batch never offered for sale (no copy here) or with no release in this
            // token (no pot). The registry answers, so a wrong proof or an unknown batch is refused
            // as before and the batch's cooperative is known (a claimMany skips such a batch).
            IBatchRegistry.Batch memory batch = batches.getBatch(batchId);
            root = batch.contributorsRoot;
            cooperativeId = batch.cooperativeId;
        } else {
            cooperativeId = uint64(pot >> 192);
        }
        if (!MerkleProof.verifyCalldata(proof, root, ContributorsMerkle.leaf(contributor))) {
            revert SaleEscrowInvalidProof(batchId, contributor);
        }
        // In the tree, so registered: its index names an account and its weight fits 64 bits.
        uint64 route;
        (account, route) = registry.payeeAt(uint32(contributor >> 64));
        to = _routeOf(cooperativeId, account, route);
        // No release in this token yet: nothing due (and no weight to divide by).
        if (pot != 0) amount = _book(batchId, token, account, contributor, pot & _LOW128, uint64(pot >> 128));
    }

    /// @dev Books what is due to `account`, contributor word `contributor` (index, weight), of
    /// `releasedTotal` (zero: nothing) and emits it.
    function _book(
        bytes32 batchId,
        address token,
        address account,
        uint256 contributor,
        uint256 releasedTotal,
        uint64 totalWeight
    ) private returns (uint256 amount) {
        uint64 weight = uint64(contributor);
        uint256 due = RevenueSplit.share(releasedTotal, weight, totalWeight);
        uint256 index = uint32(contributor >> 64);
        uint256 shift = (index & 1) << 7;
        mapping(uint256 => uint256) storage pairs = _claimedPairs[batchId][token];
        uint256 word = pairs[index >> 1];
        uint256 paid = (word >> shift) & _LOW128;
        if (due > paid) {
            amount = due - paid;
            // due ≤ releasedTotal < 2^128: it fits its half.
            pairs[index >> 1] = (word & ~(_LOW128 << shift)) | (due << shift);
            emit Claimed(batchId, token, account, amount, weight);
        }
    }

    /// @dev What `account` has claimed of `batchId` in `token` (zero for an account never a member).
    function _claimedOf(bytes32 batchId, address token, address account) private view returns (uint256) {
        try registry.indexOf(account) returns (uint32 index) {
            return (_claimedPairs[batchId][token][index >> 1] >> ((uint256(index) & 1) << 7)) & _LOW128;
        } catch {
            return 0;
        }
    }

    /// @dev One claim, paid to herself or her cooperative's payout account; `own`: she must be the caller.
    function _claimAndPay(
        bytes32 batchId,
        address token,
        uint256 contributor,
        bytes32[] calldata proof,
        bool own
    ) private {
        (address account, address to, uint64 cooperativeId, uint256 amount) = _claimOne(
            batchId,
            token,
            contributor,
            proof
        );
        if (own && account != _msgSender()) revert SaleEscrowNotContributor(_msgSender());
        if (amount == 0) revert SaleEscrowNothingDue(account);
        if (to != account) emit ClaimRouted(batchId, account, cooperativeId, to, amount);
        _pay(token, to, amount);
    }

    /// @dev Where a member of `cooperativeId` is paid: herself, or the payout account if she chose,
    /// by her own signature, to be paid in dirhams by that cooperative (`route`, from the registry;
    /// never zero once chosen, as a payout account can be replaced but not removed).
    function _routeOf(uint64 cooperativeId, address account, uint64 route) private view returns (address) {
        return route != 0 && route == cooperativeId ? _payoutAccounts[cooperativeId] : account;
    }

    /// @dev A payment that may fail without reverting: ether with {PUSH_GAS} and no return data
    /// copied (a payee cannot burn the caller's gas or memory), tokens through SafeERC20's try.
    function _tryPay(address token, address to, uint256 amount) private returns (bool ok) {
        if (token == address(0)) {
            uint256 gasLimit = PUSH_GAS;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                ok := call(gasLimit, to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            // sendValue forwards all gas (a multisig or smart wallet may need more than 2300) and
            // reverts if the recipient refuses; nonReentrant and the effects above guard re-entry.
            Address.sendValue(payable(to), amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev The distinct tokens of `saleIds`, after checking each is a settled sale of the batch, in
    /// ascending order (so none is counted twice; with the count checked by the caller, all are there).
    function _settledTokens(
        bytes32 batchId,
        uint256[] calldata saleIds
    ) private view returns (address[] memory tokens) {
        address[] memory found = new address[](saleIds.length);
        uint256 distinct;
        uint256 previous;
        for (uint256 i = 0; i < saleIds.length; ++i) {
            uint256 saleId = saleIds[i];
            Sale storage sale = _sales[saleId];
            SaleState state = sale.state;
            bool settled =
                state == SaleState.Released ||
                    state == SaleState.Resolved ||
                    state == SaleState.Cancelled ||
                    state == SaleState.Refunded;
            if (saleId <= previous || sale.batchId != batchId || !settled) revert SaleEscrowOpenSale(batchId, saleId);
            previous = saleId;
            address token = sale.token;
            bool seen;
            for (uint256 j = 0; j < distinct && !seen; ++j) seen = found[j] == token;
            if (!seen) found[distinct++] = token;
        }
        tokens = new address[](distinct);
        for (uint256 i = 0; i < distinct; ++i) tokens[i] = found[i];
    }

    function _sale(uint256 saleId) private view returns (Sale storage sale) {
        sale = _sales[saleId];
        if (sale.state == SaleState.None) revert SaleEscrowUnknownSale(saleId);
    }

    function _inState(uint256 saleId, SaleState expected) private view returns (Sale storage sale) {
        sale = _sale(saleId);
        if (sale.state != expected) revert SaleEscrowInvalidState(saleId, sale.state, expected);
    }

    function _onlySeller(uint256 saleId, Sale storage sale) private view {
        address sender = _msgSender();
        // The cooperative's current admin sells: a handover of the admin role carries open sales.
        if (!registry.isCooperativeAdmin(sale.cooperativeId, sender)) revert SaleEscrowNotSeller(saleId, sender);
    }

    function _onlyPlatformAdmin() private view {
        address sender = _msgSender();
        // DEFAULT_ADMIN_ROLE of the registry: the platform admin.
        if (!registry.hasRole(bytes32(0), sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(sender, bytes32(0));
        }
    }

    function _checkPeriod(uint32 period) private pure {
        if (period < MIN_PERIOD || period > MAX_PERIOD) revert SaleEscrowInvalidPeriod(period, MIN_PERIOD, MAX_PERIOD);
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
