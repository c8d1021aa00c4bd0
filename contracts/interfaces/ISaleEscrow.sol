// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ISaleEscrow
 * @notice Escrow of buyer payments for sales of batches, and the fair split of each sale.
 *
 * Life of a sale: Created → Funded → Shipped → Released, or Created → Cancelled (the offer is
 * withdrawn), Funded → Refunded (not shipped by the deadline, or the seller gives up), and
 * Shipped → Disputed → Resolved (an ARBITER splits the money between a refund and a release).
 *
 * On release the gross amount is split by {RevenueSplit}: the platform fee and the reserve rate
 * are those in force when the sale was created; the net goes to the batch's contributors pro
 * rata to weight. Release is O(1): it adds the net to a cumulative total per (batch, token);
 * each member claims `released × weight / totalWeight − alreadyClaimed` with a Merkle proof of her
 * packed contributor word (account index, weight; see {IBatchRegistry}). Money leaves by pull:
 * {claim}/{claimFor}/{claimMany} for members (many batches in one transfer), {withdraw} for
 * refunds, fees and deferred payments, {withdrawReserve} for the cooperative reserve. {payAll}
 * pays every contributor of a batch in one transaction; a member whose account refuses the payment
 * (or needs more than {PUSH_GAS}) is credited instead and withdraws it herself: she blocks no one.
 *
 * Accounting invariant, per token: deposits = held + refunds + fees + reserves + claimed +
 * claimable + dust, where held is the price of sales funded but not yet settled (Funded, Shipped,
 * Disputed) and dust (what rounding members' shares down leaves) is below the number of contributors
 * of each batch, in smallest units; {closeBatch} moves a batch's dust to the cooperative's reserve,
 * after which the escrow holds exactly what it owes. The contract never reads its own balance, so ether forced in by
 * `selfdestruct` changes nothing.
 */
interface ISaleEscrow {
    enum SaleState {
        None,
        Created,
        Funded,
        Shipped,
        Disputed,
        Released,
        Resolved,
        Cancelled,
        Refunded
    }

    /// @notice A sale as stored on-chain.
    struct Sale {
        bytes32 batchId;
        address seller; // the cooperative admin who created it
        uint64 cooperativeId;
        uint16 feeBps; // platform fee when created
        uint16 reserveBps; // cooperative reserve rate when created
        address buyer; // zero until funded for an open offer
        uint64 fundedAt;
        SaleState state;
        address token; // zero for ETH
        uint32 shippingPeriod; // seconds from funding to the shipping deadline
        uint32 disputeWindow; // seconds after shipping during which the buyer may dispute
        uint64 quantity;
        uint64 shippedAt;
        uint128 price;
    }

    /// @dev `saleId` does not name a sale.
    error SaleEscrowUnknownSale(uint256 saleId);
    /// @dev The sale is in `actual` state; the action needs `expected`.
    error SaleEscrowInvalidState(uint256 saleId, SaleState actual, SaleState expected);
    /// @dev The price is zero.
    error SaleEscrowZeroPrice();
    /// @dev The quantity is zero.
    error SaleEscrowZeroQuantity();
    /// @dev The token is not on the allow-list.
    error SaleEscrowTokenNotAllowed(address token);
    /// @dev The ETH sent does not match what is due.
    error SaleEscrowWrongPayment(uint256 expected, uint256 received);
    /// @dev The token transfer delivered less than the price (fee-on-transfer tokens are not accepted).
    error SaleEscrowTransferShortfall(uint256 expected, uint256 received);
    /// @dev `account` is not the buyer of the sale.
    error SaleEscrowNotBuyer(uint256 saleId, address account);
    /// @dev `account` is not the admin of the sale's cooperative.
    error SaleEscrowNotSeller(uint256 saleId, address account);
    /// @dev The sale is reserved for another buyer.
    error SaleEscrowReservedForBuyer(uint256 saleId, address buyer);
    /// @dev A time limit (shipping deadline or dispute window) is not met; `deadline` is the limit.
    error SaleEscrowDeadline(uint256 saleId, uint64 deadline);
    /// @dev A shipping period or dispute window outside the allowed bounds.
    error SaleEscrowInvalidPeriod(uint32 period, uint32 min, uint32 max);
    /// @dev A fee above {MAX_FEE_BPS} or a refund share above 10,000 bps.
    error SaleEscrowInvalidBps(uint256 bps, uint256 max);
    /// @dev The Merkle proof does not show (account, weight) among the batch's contributors.
    error SaleEscrowInvalidProof(bytes32 batchId, uint256 contributor);
    /// @dev Nothing to pay.
    error SaleEscrowNothingDue(address account);
    /// @dev The zero address was given where an account is required.
    error SaleEscrowZeroAddress();
    /// @dev More is asked from the reserve than it holds.
    error SaleEscrowInsufficientReserve(uint64 cooperativeId, address token, uint256 available, uint256 requested);
    /// @dev ETH was sent with a token payment.
    error SaleEscrowUnexpectedEth();
    /// @dev A settlement token's currency must be a three-letter ISO 4217 code in capitals.
    error SaleEscrowInvalidCurrency(bytes3 currency);
    /// @dev `account` may not choose to be paid through cooperative `cooperativeId`: she is not its member.
    error SaleEscrowNotMember(uint64 cooperativeId, address account);
    /// @dev The cooperative has no payout account yet, so nobody can be paid through it.
    error SaleEscrowNoPayoutAccount(uint64 cooperativeId);
    /// @dev The batch's accounts are closed: no new sale of it.
    error SaleEscrowBatchClosed(bytes32 batchId);
    /// @dev Closing a batch needs every sale of it, in ascending order, each settled; `saleId` is not.
    error SaleEscrowOpenSale(bytes32 batchId, uint256 saleId);
    /// @dev Closing a batch needs all its sales: `given` of `count`.
    error SaleEscrowIncompleteSales(bytes32 batchId, uint256 given, uint256 count);
    /// @dev The contributors given are not the batch's whole list (their tree is not the batch's root).
    error SaleEscrowWrongContributors(bytes32 batchId);
    /// @dev {claim} by `account`, which is not the account of the contributor word it proves.
    error SaleEscrowNotContributor(address account);
    /// @dev Claim `index` of a {claimMany} names another account or cooperative than the first, or no claim was given.
    error SaleEscrowMixedClaims(uint256 index);
    /// @dev What a batch's members are due in `token` would pass 2^128 − 1 base units. No real token
    /// comes near (a platform admin allows only settlement tokens, and must not allow one whose amounts
    /// could): the sale then stays Shipped, and only a dispute opened in its window (refunded by the
    /// arbiter) settles it.
    error SaleEscrowReleasedOverflow(bytes32 batchId, address token);

    /// @dev Emitted when the cooperative admin offers a quantity of a batch for sale.
    event SaleCreated(
        uint256 indexed saleId,
        bytes32 indexed batchId,
        uint64 indexed cooperativeId,
        address seller,
        address buyer,
        address token,
        uint128 price,
        uint64 quantity,
        uint16 feeBps,
        uint16 reserveBps,
        uint32 shippingPeriod,
        uint32 disputeWindow
    );
    /// @dev Emitted when the buyer pays the price into escrow.
    event SaleFunded(uint256 indexed saleId, address indexed buyer, address token, uint256 amount, uint64 shipBy);
    /// @dev Emitted when the seller marks the goods shipped.
    event SaleShipped(uint256 indexed saleId, bytes32 documentHash, uint64 disputeUntil);
    /// @dev Emitted when the buyer confirms delivery (a {SaleReleased} event follows).
    event DeliveryConfirmed(uint256 indexed saleId, address indexed buyer);
    /**
     * @dev Emitted when the money of a sale is split. `gross = fee + reserve + net`; `net` is
     * added to what the contributors of `batchId` can claim in `token`; `releasedTotal` is the
     * batch's cumulative net in that token after this release.
     */
    event SaleReleased(
        uint256 indexed saleId,
        bytes32 indexed batchId,
        address indexed token,
        uint256 gross,
        uint256 fee,
        uint256 reserve,
        uint256 net,
        uint256 releasedTotal
    );
    /// @dev Emitted when an amount is credited back to the buyer (withdrawn with {withdraw}).
    event SaleRefunded(uint256 indexed saleId, address indexed buyer, address token, uint256 amount);
    /// @dev Emitted when an unfunded offer is withdrawn or a funded sale cancelled.
    event SaleCancelled(uint256 indexed saleId, address indexed by);
    /// @dev Emitted when the buyer disputes a shipped sale.
    event DisputeOpened(uint256 indexed saleId, address indexed buyer, bytes32 reasonHash);
    /// @dev Emitted when an ARBITER settles a dispute; `SaleRefunded` and `SaleReleased` follow for the parts > 0.
    event DisputeResolved(uint256 indexed saleId, address indexed arbiter, uint16 refundBps, bytes32 rulingHash);
    /// @dev Emitted when a contributor's share is paid.
    event Claimed(
        bytes32 indexed batchId,
        address indexed token,
        address indexed account,
        uint256 amount,
        uint64 weight
    );
    /// @dev Emitted when a credited refund or fee is withdrawn.
    event Withdrawn(address indexed token, address indexed account, uint256 amount);
    /// @dev Emitted when the cooperative admin moves reserve funds out.
    event ReserveWithdrawn(uint64 indexed cooperativeId, address indexed token, address indexed to, uint256 amount);
    /// @dev Emitted when a token is allowed or disallowed for new sales.
    event TokenAllowed(address indexed token, bool allowed);
    /// @dev Emitted when a token is allowed with its currency (ISO 4217) and its decimals.
    event SettlementTokenSet(address indexed token, bytes3 currency, uint8 decimals);
    /// @dev Emitted when a cooperative names the account that receives the shares of members paid through it.
    event PayoutAccountSet(uint64 indexed cooperativeId, address indexed account);
    /// @dev Emitted when a member chooses (or stops) to be paid through her cooperative.
    event PayoutRouteChosen(uint64 indexed cooperativeId, address indexed member, bool throughCooperative);
    /// @dev Emitted when a batch's accounts are closed (no new sale of it), once per token sold.
    /// `roundedOff` is what rounding members' shares down left over (< the number of contributors),
    /// added to the cooperative's reserve.
    event BatchClosed(bytes32 indexed batchId, uint64 indexed cooperativeId, address indexed token, uint256 roundedOff);
    /// @dev Emitted after {Claimed} when the share went to the cooperative's payout account, not to the member.
    event ClaimRouted(
        bytes32 indexed batchId,
        address indexed account,
        uint64 indexed cooperativeId,
        address to,
        uint256 amount
    );
    /// @dev Emitted by {payAll} when paying `account` failed: the amount is credited to it ({withdraw}).
    event PaymentDeferred(address indexed token, address indexed account, uint256 amount);
    /// @dev Emitted when the platform fee changes (for sales created afterwards).
    event FeeChanged(uint16 previousBps, uint16 newBps);
    /// @dev Emitted when the account credited with platform fees changes.
    event FeeRecipientChanged(address indexed previous, address indexed current);

    /**
     * @notice Offers `quantity` of a batch for `price` in `token` (zero for ETH).
     * @dev The quantity is drawn from the batch at once (mass balance) and returns to it if the
     * sale is cancelled or refunded before shipping. `buyer` zero makes an open offer that the
     * first funder takes. Requirements: not paused; the caller is the admin of the batch's
     * cooperative; `quantity` > 0 and within what the batch holds; `price` > 0; `token` allowed;
     * `shippingPeriod` and `disputeWindow` within {MIN_PERIOD}..{MAX_PERIOD}.
     *
     * Emits a {SaleCreated} event.
     * @return saleId sequential, counting from 1.
     */
    function createSale(
        bytes32 batchId,
        uint64 quantity,
        address token,
        uint128 price,
        address buyer,
        uint32 shippingPeriod,
        uint32 disputeWindow
    ) external returns (uint256 saleId);

    /**
     * @notice Pays the price into escrow. ETH sales take `msg.value` = price; token sales pull the
     * price with `transferFrom` (approve first) and reject tokens that deliver less.
     * @dev Requirements: not paused; the sale is Created; the caller is its buyer, or any account
     * for an open offer; the token is still allowed.
     *
     * Emits a {SaleFunded} event.
     */
    function fund(uint256 saleId) external payable;

    /**
     * @notice Marks the goods shipped; the dispute window starts.
     * @dev Requirements: the sale is Funded; the caller is the admin of its cooperative; the
     * shipping deadline has not passed.
     *
     * Emits a {SaleShipped} event.
     */
    function markShipped(uint256 saleId, bytes32 documentHash) external;

    /**
     * @notice The buyer confirms delivery, which releases the payment.
     * @dev Requirements: the sale is Shipped; the caller is the buyer.
     *
     * Emits {DeliveryConfirmed} and {SaleReleased} events.
     */
    function confirmDelivery(uint256 saleId) external;

    /**
     * @notice Releases a shipped sale whose dispute window passed without a dispute. Anyone may call.
     * @dev Requirements: the sale is Shipped; the dispute window has ended.
     *
     * Emits a {SaleReleased} event.
     */
    function release(uint256 saleId) external;

    /**
     * @notice The buyer disputes a shipped sale within the dispute window.
     * @dev Requirements: the sale is Shipped; the caller is the buyer; the window is open.
     *
     * Emits a {DisputeOpened} event.
     */
    function openDispute(uint256 saleId, bytes32 reasonHash) external;

    /**
     * @notice An ARBITER settles a dispute: `refundBps` of the price is credited back to the
     * buyer and the rest is released and split as usual.
     * @dev Works while paused. Requirements: the caller holds ARBITER_ROLE; the sale is Disputed;
     * `refundBps` ≤ 10,000.
     *
     * Emits {DisputeResolved}, then {SaleRefunded} and/or {SaleReleased} for the parts > 0.
     */
    function resolveDispute(uint256 saleId, uint16 refundBps, bytes32 rulingHash) external;

    /**
     * @notice Cancels a sale that was not shipped. The seller may withdraw a Created offer or
     * give up a Funded sale (the buyer is refunded); the buyer may cancel a Funded sale once the
     * shipping deadline has passed. The quantity returns to the batch.
     * @dev Works while paused. Requirements as above.
     *
     * Emits {SaleCancelled}, and {SaleRefunded} when the sale was funded.
     */
    function cancel(uint256 saleId) external;

    /// @notice One batch of a {claimMany}: the member's packed contributor word and its Merkle proof.
    struct BatchClaim {
        bytes32 batchId;
        uint256 contributor;
        bytes32[] proof;
    }

    /**
     * @notice Pays the caller its share of everything released for `batchId` in `token`.
     * @dev As {claimFor}, and the contributor's account must be the caller ({SaleEscrowNotContributor}).
     */
    function claim(bytes32 batchId, address token, uint256 contributor, bytes32[] calldata proof) external;

    /**
     * @notice Pays the account of `contributor` its share: to the account itself, or to her
     * cooperative's payout account if she chose to be paid through it. Anyone may call; the gateway
     * does it for members without a wallet, and a member may send it herself.
     * @dev Works while paused. Requirements: `proof` shows `contributor` (index << 64 | weight) in
     * the batch's contributors tree; something is due. Emits a {Claimed} event (and {ClaimRouted}
     * when paid through the cooperative).
     */
    function claimFor(bytes32 batchId, address token, uint256 contributor, bytes32[] calldata proof) external;

    /**
     * @notice Pays one member her shares in `token` of several batches of one cooperative, in one
     * transfer. Anyone may call. Batches with nothing due are skipped.
     * @dev Works while paused. Requirements: every proof valid ({SaleEscrowInvalidProof}); every
     * claim names the same account and batches of the same cooperative ({SaleEscrowMixedClaims});
     * something is due in all. Emits a {Claimed} event per batch paid (and {ClaimRouted}).
     */
    function claimMany(address token, BatchClaim[] calldata claims) external;

    /**
     * @notice Pays every contributor of `batchId` what is due to her in `token`, in one transaction.
     * Anyone may call. A payment that fails (a contract that refuses it, or an ether transfer needing
     * more than {PUSH_GAS}) is credited to the payee instead ({PaymentDeferred}; {withdraw}).
     * @dev Works while paused. `contributors`: the batch's whole list as registered (its tree must be
     * the batch's root, else {SaleEscrowWrongContributors}). Emits {Claimed} (and {ClaimRouted}) for
     * each member paid something.
     */
    function payAll(bytes32 batchId, address token, uint256[] calldata contributors) external;

    /**
     * @notice Pays `account` what it was credited in `token` (refunds, platform fees). Anyone may
     * trigger it; the money only goes to `account`.
     * @dev Works while paused. Requirements: something is due. Emits a {Withdrawn} event.
     */
    function withdraw(address token, address account) external;

    /**
     * @notice Moves `amount` of a cooperative's reserve in `token` to `to`.
     * @dev Requirements: the caller is the cooperative's admin; `to` is not zero; `amount` is not
     * zero and the reserve holds it (else {SaleEscrowInsufficientReserve}). Emits a {ReserveWithdrawn} event.
     */
    function withdrawReserve(uint64 cooperativeId, address token, address to, uint256 amount) external;

    /// @notice Allows or disallows a token for new sales. Caller: platform admin. Emits {TokenAllowed}.
    /// @dev Only a token whose amounts stay far below 2^128 base units (see {SaleEscrowReleasedOverflow}).
    function setTokenAllowed(address token, bool allowed) external;

    /**
     * @notice Allows `token` for new sales and records its currency (ISO 4217, e.g. "MAD", "EUR")
     * and its decimals (read from the token), so that every amount can be shown in money people read.
     * Caller: platform admin. Emits {TokenAllowed} and {SettlementTokenSet}.
     */
    function setSettlementToken(address token, bytes3 currency) external;

    /// @notice The currency and decimals recorded for `token` ("ETH" and 18 for the zero address; zero when unknown).
    function currencyOf(address token) external view returns (bytes3 currency, uint8 decimals);

    /**
     * @notice Names the account that receives the shares of the cooperative's members who chose to
     * be paid through it (the cooperative then pays them in dirhams and records it in the payout ledger).
     * Caller: the cooperative's admin. Emits {PayoutAccountSet}.
     */
    function setPayoutAccount(uint64 cooperativeId, address account) external;

    /**
     * @notice The caller (a member, by her own signature) chooses to be paid through her cooperative,
     * or to be paid herself again. Requirements to choose it: she is a member; the cooperative has a
     * payout account. Emits {PayoutRouteChosen}.
     */
    function setPaidThroughCooperative(uint64 cooperativeId, bool through) external;

    /**
     * @notice Closes a batch's accounts: no new sale of it, and in each token it was sold in, what
     * rounding members' shares down left over (less than one smallest unit per contributor: 0.01 MAD
     * per member for a dirham token) goes to the cooperative's reserve instead of staying unclaimable.
     * @dev Caller: the cooperative's admin. `saleIds`: every sale of the batch, ascending, each settled
     * (released, resolved, cancelled or refunded); `contributors`: the batch's whole list, as registered
     * (its tree must be the batch's root). O(contributors × tokens). Emits {BatchClosed} per token.
     */
    function closeBatch(bytes32 batchId, uint256[] calldata saleIds, uint256[] calldata contributors) external;

    /// @notice Whether the batch's accounts are closed, and how many sales it had.
    function batchSales(bytes32 batchId) external view returns (uint64 count, bool closed);

    /// @notice What closing the batch added to the reserve in `token` (members' shares sum to released − this).
    function roundedOff(bytes32 batchId, address token) external view returns (uint256);

    /// @notice The account that receives the shares of members paid through `cooperativeId` (zero: none).
    function payoutAccountOf(uint64 cooperativeId) external view returns (address);

    /// @notice Whether `member` chose to be paid through `cooperativeId`.
    function paidThroughCooperative(uint64 cooperativeId, address member) external view returns (bool);

    /**
     * @notice As {fund}, for a token sale, with the buyer's EIP-2612 permit for the price, so a buyer
     * who signs (custodial or not) funds in one transaction. A permit already used (front-run) is
     * ignored: the transfer then needs the allowance it gave.
     */
    function fundWithPermit(uint256 saleId, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Sets the platform fee for sales created afterwards (≤ {MAX_FEE_BPS}). Caller: platform admin. Emits {FeeChanged}.
    function setFeeBps(uint16 newFeeBps) external;

    /// @notice Sets the account credited with platform fees. Caller: platform admin. Emits {FeeRecipientChanged}.
    function setFeeRecipient(address recipient) external;

    /// @notice Stops new sales and funding. Sales already funded go on to the end (shipping, delivery,
    /// release, disputes, cancellation) and claims and withdrawals always work. Caller: platform admin.
    function pause() external;

    /// @notice Lifts {pause}. Caller: platform admin.
    function unpause() external;

    /// @notice The sale (reverts with {SaleEscrowUnknownSale} if unknown).
    function getSale(uint256 saleId) external view returns (Sale memory);

    /// @notice What `account` with `weight` can claim now for `batchId` in `token` (proof not checked).
    function claimable(bytes32 batchId, address token, address account, uint64 weight) external view returns (uint256);

    /// @notice Cumulative net released for `batchId` in `token`.
    function released(bytes32 batchId, address token) external view returns (uint256);

    /// @notice What `account` has claimed for `batchId` in `token`.
    function claimed(bytes32 batchId, address token, address account) external view returns (uint256);

    /// @notice Refunds and fees credited to `account` in `token`, not yet withdrawn.
    function credited(address token, address account) external view returns (uint256);

    /// @notice The reserve of `cooperativeId` in `token`, not yet withdrawn.
    function reserveOf(uint64 cooperativeId, address token) external view returns (uint256);

    /// @notice Whether `token` may be used for new sales (ETH, the zero address, always may).
    function isTokenAllowed(address token) external view returns (bool);

    /// @notice The number of sales created; ids run from 1 to this number.
    function saleCount() external view returns (uint256);
}
