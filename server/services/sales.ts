/**
 * Sales in escrow, claims and withdrawals, and what each party sees of them. Actions that move no money
 * of the caller go through the relayer (the member needs no gas); a buyer's payment is the buyer's own
 * transactions, from the buyer's custodial account, since the escrow must receive the buyer's money and
 * not the relayer's — through the same durable outbox (writer.writeOwn). Called by the API and by the
 * workspace pages alike: input is the parsed output of the schemas below, the actor is the signed-in
 * user, errors are DomainErrors (or the relayer's and the chain's own, mapped by the HTTP layer).
 */
import { encodeFunctionData, erc20Abi, type Hex } from "viem";
import { z } from "zod";
import { buildContributorTree } from "../../domain/contributors";
import { SALE_STATES, type SaleState } from "../../domain/saleStates";
import { shareOf } from "../../domain/split";
import { saleEscrowAbi } from "../chain/abis.generated";
import { ZERO_ADDRESS as ZeroAddress, ZERO_HASH as ZeroHash } from "../chain/address";
import { encodeCall } from "../chain/calldata";
import type { ChainClient } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import type { User, UserStore } from "../custody/users";
import type { Balance, Indexer, Page, PageOptions, Queries, Sale, SaleDetail } from "../index";
import { requireCoopAdmin, requireRole } from "./access";
import { DomainError, forbidden, notFound } from "./errors";
import { address, bytes32, id, paging, uint } from "./schemas";
import { eventArg, type WriteOptions, type Writer, type WriteOutcome } from "./writes";

const DAY = 86_400;

/** "ETH" (the default) or an allowed ERC-20's address; the zero address stands for ETH on-chain. */
export const saleToken = z
  .union([z.literal("ETH"), address])
  .default("ETH")
  .transform((t) => (t === "ETH" ? ZeroAddress : t));

export const offerSaleInput = z
  .object({
    batchId: bytes32,
    quantity: uint(64, 1n),
    token: saleToken,
    price: uint(128, 1n),
    buyer: address.optional(),
    shippingDays: z.number().int().min(1).max(180).default(14),
    disputeDays: z.number().int().min(1).max(180).default(7),
  })
  .strict();
export type OfferSaleInput = z.output<typeof offerSaleInput>;

const EXISTING_STATES = SALE_STATES.slice(1) as [SaleState, ...SaleState[]];

export const listSalesInput = paging.extend({
  batchId: bytes32.optional(),
  cooperativeId: id.optional(),
  state: z.enum(EXISTING_STATES).optional(),
});
export type ListSalesInput = z.output<typeof listSalesInput>;

export const shipInput = z.object({ documentHash: bytes32.default(ZeroHash) }).strict();
export type ShipInput = z.output<typeof shipInput>;

/** The buyer's confirmation or dispute, with the hash of a reason document (a dispute's). */
export const buyerStepInput = z.object({ reasonHash: bytes32.default(ZeroHash) }).strict();
export type BuyerStepInput = z.output<typeof buyerStepInput>;

export const resolveInput = z
  .object({ refundBps: z.number().int().min(0).max(10_000), rulingHash: bytes32.default(ZeroHash) })
  .strict();
export type ResolveInput = z.output<typeof resolveInput>;

export const claimInput = z
  .object({ batchId: bytes32, token: saleToken, memberId: z.string().uuid().optional() })
  .strict();
export type ClaimInput = z.output<typeof claimInput>;

export const withdrawInput = z.object({ token: saleToken }).strict();
export type WithdrawInput = z.output<typeof withdrawInput>;

/** The buyer's payment: one operation of its own transactions (an ERC-20 approval, then `fund`). */
export interface FundResult {
  outcome: WriteOutcome;
  /** The transaction of each step sent so far, in order (the approval first when one was needed). */
  transactions: string[];
}

/** States in which a sale still needs someone to act (the seller, the buyer or an arbiter). */
export const OPEN_SALE_STATES: readonly SaleState[] = ["Created", "Funded", "Shipped", "Disputed"];

/** A member's share of one sale's releases, and how much of it has been paid (the batch's facts as in Balance). */
export interface MemberSaleShare extends Pick<
  Balance,
  "batchId" | "cooperativeId" | "productCode" | "lotCode" | "token" | "weight"
> {
  saleId: number;
  /** What this sale's releases added to the member's share (smallest unit). */
  share: string;
  /** The part of `share` already claimed: claims of a batch pay its oldest shares first. */
  claimed: string;
  /** share − claimed. */
  due: string;
  /** Unix seconds of the sale's first release. */
  releasedAt: number;
}

/** What a member may still claim from one batch in one token, for her cooperative's manager. */
export interface UnpaidShare extends Balance {
  account: string;
  userId: string | null;
  displayName: string | null;
}

export interface SaleService {
  offer(
    actor: User | undefined,
    input: OfferSaleInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; saleId: string | null }>;
  list(input?: Partial<ListSalesInput>): Page<Sale>;
  get(saleId: number): SaleDetail;
  fund(actor: User | undefined, saleId: number, options?: WriteOptions): Promise<FundResult>;
  ship(actor: User | undefined, saleId: number, input: ShipInput, options?: WriteOptions): Promise<WriteResult>;
  confirm(actor: User | undefined, saleId: number, input: BuyerStepInput, options?: WriteOptions): Promise<WriteResult>;
  dispute(actor: User | undefined, saleId: number, input: BuyerStepInput, options?: WriteOptions): Promise<WriteResult>;
  resolve(actor: User | undefined, saleId: number, input: ResolveInput, options?: WriteOptions): Promise<WriteResult>;
  cancel(actor: User | undefined, saleId: number, options?: WriteOptions): Promise<WriteResult>;
  release(actor: User | undefined, saleId: number, options?: WriteOptions): Promise<WriteResult>;
  claim(
    actor: User | undefined,
    input: ClaimInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; amount: string | null }>;
  withdraw(actor: User | undefined, input: WithdrawInput, options?: WriteOptions): Promise<WriteResult>;
  /** What the caller earned, claimed and can still claim, per batch and token. */
  balances(actor: User | undefined): Balance[];
  /** The manager's sales of `cooperativeId` that still need someone to act, newest first. */
  openSales(actor: User | undefined, cooperativeId: number): Sale[];
  /** Members' shares of `cooperativeId` not yet paid, per member, batch and token (the manager). */
  unpaidShares(actor: User | undefined, cooperativeId: number): UnpaidShare[];
  /** The caller's share of each released sale of the batches she contributed to, due and claimed. */
  memberShares(actor: User | undefined): MemberSaleShare[];
  /** The buyer's sales (offers made to it and what it funded), newest first. */
  orders(actor: User | undefined): Sale[];
  /** What the buyer can withdraw from the escrow (refunds), per token. */
  refunds(actor: User | undefined): { token: string; amount: string }[];
  /** The sales under dispute, oldest dispute first, with the buyer's name when it has an account here (arbiters). */
  disputes(actor: User | undefined): DisputedSale[];
}

export interface DisputedSale extends SaleDetail {
  buyerName: string | null;
}

type WriteResult = { outcome: WriteOutcome };

export interface SaleServiceDeps {
  users: Pick<UserStore, "get" | "findByAddress">;
  queries: Queries;
  writer: Writer;
  indexer: Pick<Indexer, "waitForBlock">;
  deployment: DeploymentFile;
  /** The node: sale facts the index may not have yet, and the buyer's own payment. */
  client: ChainClient;
}

const sameAddress = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();

/** Every item of a paged index query (pages of 100, the index's largest). */
export function allPages<T>(read: (page: PageOptions) => Page<T>): T[] {
  const items: T[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = read({ limit: 100, offset });
    items.push(...page.items);
    if (page.items.length < 100 || items.length >= page.total) return items;
  }
}

/** The escrow at the node: sale facts a write checks first (the index may not have caught up yet). */
function escrowAt(deps: Pick<SaleServiceDeps, "deployment" | "client">) {
  const address = deps.deployment.contracts.SaleEscrow.address as Hex;
  const { client } = deps;
  return {
    address,
    async sale(saleId: number) {
      const count = await client.read({ address, abi: saleEscrowAbi, functionName: "saleCount" });
      if (BigInt(saleId) > count) throw notFound("sale_not_found", `no sale ${saleId}`);
      return client.read({ address, abi: saleEscrowAbi, functionName: "getSale", args: [BigInt(saleId)] });
    },
  };
}

/**
 * The buyer's payment into escrow, from its own custodial account (the escrow takes the buyer's money,
 * not the relayer's): one operation of the outbox whose steps are the buyer's own transactions — an
 * ERC-20 approval first when the allowance falls short, then `fund` (with the price as value for a
 * sale in ETH). Answered like every write: mined, or the operation id to follow.
 */
function buyerPayment(deps: SaleServiceDeps, escrow: ReturnType<typeof escrowAt>) {
  const { writer, client } = deps;
  const escrowAddress = escrow.address;
  return async function fund(actor: User | undefined, saleId: number, options?: WriteOptions): Promise<FundResult> {
    const user = requireRole(actor, "buyer");
    const sale = await escrow.sale(saleId);
    const state = SALE_STATES[Number(sale.state)];
    if (state !== "Created") {
      throw new DomainError("rejected", "SaleEscrowInvalidState", `sale ${saleId} is ${state}, not open for funding`);
    }
    const data = encodeFunctionData({ abi: saleEscrowAbi, functionName: "fund", args: [BigInt(saleId)] });
    if (sale.token === ZeroAddress) {
      const { transactions, ...outcome } = await writer.writeOwn(
        user,
        [{ to: escrowAddress, data, value: sale.price }],
        options,
      );
      return { outcome, transactions };
    }
    const steps: { to: string; data: string; value?: bigint }[] = [];
    if (user.address !== null) {
      const owner = user.address as Hex;
      const [allowance, balance] = await Promise.all([
        client.read({ address: sale.token, abi: erc20Abi, functionName: "allowance", args: [owner, escrowAddress] }),
        client.read({ address: sale.token, abi: erc20Abi, functionName: "balanceOf", args: [owner] }),
      ]);
      // Said now: otherwise only the payment, after the approval mined, would find out.
      if (balance < sale.price) {
        throw new DomainError("rejected", "insufficient_funds", "the account does not hold enough of this currency");
      }
      if (allowance < sale.price) {
        const approve = encodeFunctionData({
          abi: erc20Abi,
          functionName: "approve",
          args: [escrowAddress, sale.price],
        });
        steps.push({ to: sale.token, data: approve });
      }
    }
    // The payment is simulated when it is due (after the approval mined): a refusal then fails the operation.
    steps.push({ to: escrowAddress, data });
    const { transactions, ...outcome } = await writer.writeOwn(user, steps, options);
    return { outcome, transactions };
  };
}

/** What each party sees of sales: lists, a manager's open sales and unpaid shares, a member's, a buyer's. */
function saleReads(deps: Pick<SaleServiceDeps, "queries" | "users">) {
  const { queries, users } = deps;
  return {
    list: (input?: Partial<ListSalesInput>) => queries.listSales(input),

    get(saleId: number) {
      const sale = queries.getSale(saleId);
      if (!sale) throw notFound("sale_not_found", `no sale ${saleId}`);
      return sale;
    },

    balances(actor: User | undefined) {
      const user = requireRole(actor);
      return user.address === null ? [] : queries.balancesOf(user.address);
    },

    openSales(actor: User | undefined, cooperativeId: number) {
      requireCoopAdmin(queries, actor, cooperativeId);
      return OPEN_SALE_STATES.flatMap((state) =>
        allPages((p) => queries.listSales({ ...p, cooperativeId, state })),
      ).sort((a, b) => b.saleId - a.saleId);
    },

    unpaidShares(actor: User | undefined, cooperativeId: number) {
      requireCoopAdmin(queries, actor, cooperativeId);
      // One member at a time: the index computes each member's balances exactly as the escrow does.
      const accounts = new Set(queries.listMembers(cooperativeId).map((m) => m.account));
      return [...accounts].flatMap((account) => {
        const user = users.findByAddress(account);
        return queries
          .balancesOf(account)
          .filter((b) => b.cooperativeId === cooperativeId && BigInt(b.claimable) > 0n)
          .map((b) => ({ ...b, account, userId: user?.id ?? null, displayName: user?.displayName ?? null }));
      });
    },

    memberShares(actor: User | undefined) {
      const user = requireRole(actor, "member", "coop_admin");
      if (user.address === null) return [];
      return queries.balancesOf(user.address).flatMap((b) => sharesPerSale(queries, b));
    },

    orders(actor: User | undefined) {
      const user = requireRole(actor, "buyer");
      // The index has no buyer filter (Queries.listSales): read every sale. Fine for a demo's few
      // thousand sales; a `buyer` option on listSales is the cheap way, and this is its only caller.
      return allPages((p) => queries.listSales(p))
        .filter((s) => sameAddress(user.address, s.buyer))
        .sort((a, b) => b.saleId - a.saleId);
    },

    disputes(actor: User | undefined) {
      requireRole(actor, "arbiter");
      return allPages((p) => queries.listSales({ ...p, state: "Disputed" }))
        .map((s) => queries.getSale(s.saleId))
        .filter((s): s is SaleDetail => s !== null)
        .map((s) => ({ ...s, buyerName: users.findByAddress(s.buyer)?.displayName ?? null }))
        .sort((a, b) => (a.dispute?.chain.blockNumber ?? 0) - (b.dispute?.chain.blockNumber ?? 0));
    },
  } satisfies Partial<SaleService>;
}

export function createSaleService(deps: SaleServiceDeps): SaleService {
  const { users, queries, writer } = deps;
  const escrow = escrowAt(deps);
  const escrowAddress = escrow.address;
  const onChainSale = escrow.sale;

  async function relay(user: User, fn: string, args: unknown[], options?: WriteOptions): Promise<WriteResult> {
    const data = encodeCall(saleEscrowAbi, fn, args);
    return { outcome: await writer.write(user, { to: escrowAddress, data }, options) };
  }

  function requireBuyerOf(user: User, sale: { buyer: string }): void {
    if (!sameAddress(user.address, sale.buyer)) throw forbidden("you are not the buyer of this sale");
  }

  async function buyerStep(
    fn: "confirmDelivery" | "openDispute",
    actor: User | undefined,
    saleId: number,
    input: BuyerStepInput,
    options?: WriteOptions,
  ): Promise<WriteResult> {
    const user = requireRole(actor, "buyer");
    requireBuyerOf(user, await onChainSale(saleId));
    return relay(user, fn, fn === "openDispute" ? [saleId, input.reasonHash] : [saleId], options);
  }

  async function claim(actor: User | undefined, input: ClaimInput, options?: WriteOptions) {
    const caller = requireRole(actor, "member", "coop_admin");
    const batch = queries.getBatch(input.batchId);
    if (!batch) throw notFound("batch_not_found", `no batch ${input.batchId}`);
    let member = caller;
    if (input.memberId !== undefined && input.memberId !== caller.id) {
      const target = users.get(input.memberId);
      if (!target || target.role !== "member") throw notFound("member_not_found", "no such member");
      // Only the admin of the member's own cooperative may trigger its payout (always to the member).
      if (caller.role !== "coop_admin" || target.cooperativeId === null) {
        throw forbidden("you may only claim for yourself");
      }
      requireCoopAdmin(queries, caller, target.cooperativeId);
      member = target;
    }
    const tree = buildContributorTree(
      batch.contributors.map((c) => ({ account: c.account, weight: BigInt(c.weight) })),
      (account) => queries.accountIndexOf(account) ?? -1,
    );
    const weight = tree.weightOf(member.address ?? ZeroAddress);
    if (weight === 0n) {
      throw new DomainError("rejected", "not_a_contributor", "this member did not contribute to the batch");
    }
    const { outcome } = await relay(
      caller,
      "claimFor",
      [input.batchId, input.token, tree.wordOf(member.address!), tree.proof(member.address!)],
      options,
    );
    return { outcome, amount: (eventArg(outcome, "Claimed", "amount") as string | undefined) ?? null };
  }

  return {
    ...saleReads(deps),
    fund: buyerPayment(deps, escrow),
    async offer(actor, input, options) {
      const batch = queries.getBatch(input.batchId);
      if (!batch) throw notFound("batch_not_found", `no batch ${input.batchId}`);
      const user = requireCoopAdmin(queries, actor, Number(batch.cooperativeId));
      const { outcome } = await relay(
        user,
        "createSale",
        [
          input.batchId,
          input.quantity,
          input.token,
          input.price,
          input.buyer ?? ZeroAddress,
          input.shippingDays * DAY,
          input.disputeDays * DAY,
        ],
        options,
      );
      return { outcome, saleId: (eventArg(outcome, "SaleCreated", "saleId") as string | undefined) ?? null };
    },

    async ship(actor, saleId, input, options) {
      const sale = await onChainSale(saleId);
      const user = requireCoopAdmin(queries, actor, Number(sale.cooperativeId));
      return relay(user, "markShipped", [saleId, input.documentHash], options);
    },

    confirm: (actor, saleId, input, options) => buyerStep("confirmDelivery", actor, saleId, input, options),
    dispute: (actor, saleId, input, options) => buyerStep("openDispute", actor, saleId, input, options),

    async resolve(actor, saleId, input, options) {
      const user = requireRole(actor, "arbiter");
      await onChainSale(saleId);
      return relay(user, "resolveDispute", [saleId, input.refundBps, input.rulingHash], options);
    },

    async cancel(actor, saleId, options) {
      const sale = await onChainSale(saleId);
      const user = requireRole(actor, "coop_admin", "buyer");
      // The seller anytime before shipping; the buyer after the shipping deadline (the contract decides when).
      if (user.role === "coop_admin") requireCoopAdmin(queries, user, Number(sale.cooperativeId));
      else requireBuyerOf(user, sale);
      return relay(user, "cancel", [saleId], options);
    },

    async release(actor, saleId, options) {
      const user = requireRole(actor);
      await onChainSale(saleId);
      return relay(user, "release", [saleId], options);
    },

    claim,

    refunds(actor) {
      const user = requireRole(actor, "buyer", "platform_admin");
      return user.address === null ? [] : queries.refundCreditsOf(user.address);
    },

    async withdraw(actor, input, options) {
      const user = requireRole(actor, "buyer", "platform_admin");
      return relay(user, "withdraw", [input.token, user.address], options);
    },
  };
}

/**
 * The share of each sale of one (batch, token) balance. Shares are cumulative per batch and token, so a
 * release adds ⌊releasedTotal × weight / totalWeight⌋ minus the same floor before it (the audit's rule);
 * a claim pays everything due at the time, so claims are set against the oldest shares first.
 */
function sharesPerSale(queries: Pick<Queries, "listSales" | "getSale">, balance: Balance): MemberSaleShare[] {
  const weight = BigInt(balance.weight);
  const total = BigInt(balance.totalWeight);
  const sales = allPages((p) => queries.listSales({ ...p, batchId: balance.batchId }))
    .filter((s) => s.token.toLowerCase() === balance.token.toLowerCase())
    .map((s) => queries.getSale(s.saleId))
    .filter((s): s is SaleDetail => s !== null && s.releases.length > 0)
    .sort((a, b) => {
      const x = a.releases[0].chain;
      const y = b.releases[0].chain;
      return x.blockNumber - y.blockNumber || x.logIndex - y.logIndex;
    });
  let unallocated = BigInt(balance.claimed);
  return sales.map((s) => {
    const share = s.releases.reduce((sum, r) => {
      const after = BigInt(r.releasedTotal);
      return sum + shareOf(after, weight, total) - shareOf(after - BigInt(r.net), weight, total);
    }, 0n);
    const claimed = share < unallocated ? share : unallocated;
    unallocated -= claimed;
    return {
      saleId: s.saleId,
      batchId: balance.batchId,
      cooperativeId: balance.cooperativeId,
      productCode: balance.productCode,
      lotCode: balance.lotCode,
      token: balance.token,
      weight: balance.weight,
      share: share.toString(),
      claimed: claimed.toString(),
      due: (share - claimed).toString(),
      releasedAt: s.releases[0].chain.blockTime,
    };
  });
}
