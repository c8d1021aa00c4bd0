/**
 * The behaviour of SaleEscrow whatever the payment token: SaleEscrow.test.ts runs it once for ETH and
 * once for a 6-decimal stablecoin (as OpenZeppelin runs its vesting suite for ETH and ERC-20).
 * Expected figures come from the off-chain mirrors in domain/contributors.ts and domain/split.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  ZeroAddress,
  type Addressable,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { shareOf, splitRevenue } from "../../../domain/split";
import { packContributor } from "../../../domain/contributors";
import { DAY, FEE_BPS, RESERVE_BPS, type deployWithBatch } from "../../helpers/fixtures";

export type Platform = Awaited<ReturnType<typeof deployWithBatch>>;

/** The fixture plus what differs between ETH and an ERC-20. */
export interface SaleEscrowContext extends Platform {
  /** The payment token: ZeroAddress for ETH. */
  token: string;
  /** A decimal amount in the token's units ("12.5" → 12.5 × 10^decimals). */
  amount(value: string): bigint;
  /** Funds `saleId` with `amount` (ETH: sent as value; token: minted, approved, pulled). */
  pay(signer: HardhatEthersSigner, saleId: bigint, amount: bigint): Promise<ContractTransactionResponse>;
  /** The balance of `account` in the payment token. */
  balanceOf(account: string | Addressable): Promise<bigint>;
  /** Asserts the balance changes of `accounts` caused by `tx` (changeEtherBalances / changeTokenBalances). */
  changeBalances(
    tx: ContractTransactionResponse | Promise<ContractTransactionResponse>,
    accounts: (string | Addressable)[],
    deltas: bigint[],
  ): Promise<void>;
}

export enum State {
  None,
  Created,
  Funded,
  Shipped,
  Disputed,
  Released,
  Resolved,
  Cancelled,
  Refunded,
}

export const QUANTITY = 100_000n;
export const SHIP = 7 * DAY;
export const WINDOW = 3 * DAY;
export const MIN_PERIOD = DAY;
export const MAX_PERIOD = 180 * DAY;
export const SHIPPING_DOC = ethers.id("doc:bill-of-lading");
export const REASON = ethers.id("reason:damaged");
export const RULING = ethers.id("ruling:partial");

export interface SaleTerms {
  batchId: string;
  quantity: bigint;
  token: string;
  price: bigint;
  buyer: string;
  shippingPeriod: number;
  disputeWindow: number;
}

export function priceOf(ctx: SaleEscrowContext): bigint {
  return ctx.amount("1234.567891");
}

export function termsOf(ctx: SaleEscrowContext, overrides: Partial<SaleTerms> = {}): SaleTerms {
  return {
    batchId: ctx.batchId,
    quantity: QUANTITY,
    token: ctx.token,
    price: priceOf(ctx),
    buyer: ctx.buyer.address,
    shippingPeriod: SHIP,
    disputeWindow: WINDOW,
    ...overrides,
  };
}

export function sendCreateSale(
  ctx: SaleEscrowContext,
  t: SaleTerms,
  signer: HardhatEthersSigner = ctx.coopAdmin,
): Promise<ContractTransactionResponse> {
  return ctx.escrow
    .connect(signer)
    .createSale(t.batchId, t.quantity, t.token, t.price, t.buyer, t.shippingPeriod, t.disputeWindow);
}

/** Creates a sale as the cooperative admin and returns its id. */
export async function createSale(ctx: SaleEscrowContext, overrides: Partial<SaleTerms> = {}): Promise<bigint> {
  await sendCreateSale(ctx, termsOf(ctx, overrides));
  return ctx.escrow.saleCount();
}

/** Creates and funds a sale (by the reserved buyer, or `funder` for an open offer). */
export async function fundedSale(
  ctx: SaleEscrowContext,
  overrides: Partial<SaleTerms> = {},
  funder: HardhatEthersSigner = ctx.buyer,
): Promise<bigint> {
  const saleId = await createSale(ctx, overrides);
  await ctx.pay(funder, saleId, termsOf(ctx, overrides).price);
  return saleId;
}

export async function shippedSale(
  ctx: SaleEscrowContext,
  overrides: Partial<SaleTerms> = {},
  funder: HardhatEthersSigner = ctx.buyer,
): Promise<bigint> {
  const saleId = await fundedSale(ctx, overrides, funder);
  await ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC);
  return saleId;
}

export async function releasedSale(ctx: SaleEscrowContext, overrides: Partial<SaleTerms> = {}): Promise<bigint> {
  const saleId = await shippedSale(ctx, overrides);
  await ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId);
  return saleId;
}

export async function disputedSale(ctx: SaleEscrowContext, overrides: Partial<SaleTerms> = {}): Promise<bigint> {
  const saleId = await shippedSale(ctx, overrides);
  await ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON);
  return saleId;
}

export async function timestampOf(tx: ContractTransactionResponse): Promise<number> {
  const receipt = await tx.wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return block!.timestamp;
}

/** Everything a bad call must leave untouched, read back from the chain. */
export async function ledger(ctx: SaleEscrowContext, saleId?: bigint) {
  const { escrow, batches, batchId, token, cooperativeId, buyer, feeRecipient, tree } = ctx;
  return {
    saleCount: await escrow.saleCount(),
    sale: saleId === undefined ? null : [...(await escrow.getSale(saleId))],
    drawn: (await batches.getBatch(batchId)).drawn,
    escrowBalance: await ctx.balanceOf(escrow),
    released: await escrow.released(batchId, token),
    reserve: await escrow.reserveOf(cooperativeId, token),
    buyerCredit: await escrow.credited(token, buyer.address),
    feeCredit: await escrow.credited(token, feeRecipient.address),
    claimed: await Promise.all(tree.contributors.map((c) => escrow.claimed(batchId, token, c.account))),
  };
}

/** The sum of the amounts paid out (claims, withdrawals, reserve) in a receipt's escrow logs. */
export function paidOut(ctx: SaleEscrowContext, receipt: ContractTransactionReceipt | null): bigint {
  let total = 0n;
  for (const log of receipt!.logs) {
    const parsed = ctx.escrow.interface.parseLog(log);
    if (parsed && ["Claimed", "Withdrawn", "ReserveWithdrawn"].includes(parsed.name)) total += parsed.args.amount;
  }
  return total;
}

export function shouldBehaveLikeSaleEscrow(getContext: () => Promise<SaleEscrowContext>): void {
  let ctx: SaleEscrowContext;
  let price: bigint;

  beforeEach(async function () {
    ctx = await getContext();
    price = priceOf(ctx);
  });

  const split = (gross: bigint) => splitRevenue(gross, FEE_BPS, RESERVE_BPS);
  const weightOf = (account: HardhatEthersSigner) => ctx.tree.weightOf(account.address);
  const proofOf = (account: HardhatEthersSigner) => ctx.tree.proof(account.address);
  /** The contributor word of `account` with weight `weight` (its index: alice..dave are 0..3). */
  const wordFor = (account: HardhatEthersSigner, weight: bigint) =>
    packContributor(
      [ctx.alice, ctx.bob, ctx.carol, ctx.dave].findIndex((m) => m.address === account.address),
      weight,
    );

  describe("createSale", function () {
    context("when the caller is the cooperative admin", function () {
      it("emits SaleCreated with the terms and the rates in force", async function () {
        await expect(sendCreateSale(ctx, termsOf(ctx)))
          .to.emit(ctx.escrow, "SaleCreated")
          .withArgs(
            1n,
            ctx.batchId,
            ctx.cooperativeId,
            ctx.coopAdmin.address,
            ctx.buyer.address,
            ctx.token,
            price,
            QUANTITY,
            FEE_BPS,
            RESERVE_BPS,
            SHIP,
            WINDOW,
          );
      });

      it("stores the sale in the Created state", async function () {
        await sendCreateSale(ctx, termsOf(ctx));
        expect(await ctx.escrow.saleCount()).to.equal(1n);
        const sale = await ctx.escrow.getSale(1n);
        expect(sale.batchId).to.equal(ctx.batchId);
        expect(sale.seller).to.equal(ctx.coopAdmin.address);
        expect(sale.cooperativeId).to.equal(ctx.cooperativeId);
        expect(sale.feeBps).to.equal(FEE_BPS);
        expect(sale.reserveBps).to.equal(RESERVE_BPS);
        expect(sale.buyer).to.equal(ctx.buyer.address);
        expect(sale.fundedAt).to.equal(0n);
        expect(sale.state).to.equal(State.Created);
        expect(sale.token).to.equal(ctx.token);
        expect(sale.shippingPeriod).to.equal(SHIP);
        expect(sale.disputeWindow).to.equal(WINDOW);
        expect(sale.quantity).to.equal(QUANTITY);
        expect(sale.shippedAt).to.equal(0n);
        expect(sale.price).to.equal(price);
      });

      it("draws the quantity from the batch", async function () {
        await expect(sendCreateSale(ctx, termsOf(ctx)))
          .to.emit(ctx.batches, "QuantityDrawn")
          .withArgs(ctx.batchId, QUANTITY, QUANTITY);
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(QUANTITY);
        await sendCreateSale(ctx, termsOf(ctx, { quantity: 250n }));
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(QUANTITY + 250n);
      });

      it("numbers sales from 1", async function () {
        expect(await createSale(ctx)).to.equal(1n);
        expect(await createSale(ctx)).to.equal(2n);
        expect(await ctx.escrow.saleCount()).to.equal(2n);
      });

      it("takes no payment", async function () {
        await ctx.changeBalances(sendCreateSale(ctx, termsOf(ctx)), [ctx.escrow, ctx.coopAdmin], [0n, 0n]);
      });

      it("makes an open offer when the buyer is zero", async function () {
        await expect(sendCreateSale(ctx, termsOf(ctx, { buyer: ZeroAddress })))
          .to.emit(ctx.escrow, "SaleCreated")
          .withArgs(
            1n,
            ctx.batchId,
            ctx.cooperativeId,
            ctx.coopAdmin.address,
            ZeroAddress,
            ctx.token,
            price,
            QUANTITY,
            FEE_BPS,
            RESERVE_BPS,
            SHIP,
            WINDOW,
          );
        expect((await ctx.escrow.getSale(1n)).buyer).to.equal(ZeroAddress);
      });

      it("accepts periods at the bounds", async function () {
        await sendCreateSale(ctx, termsOf(ctx, { shippingPeriod: MIN_PERIOD, disputeWindow: MAX_PERIOD }));
        await sendCreateSale(ctx, termsOf(ctx, { shippingPeriod: MAX_PERIOD, disputeWindow: MIN_PERIOD }));
        expect((await ctx.escrow.getSale(1n)).shippingPeriod).to.equal(MIN_PERIOD);
        expect((await ctx.escrow.getSale(2n)).disputeWindow).to.equal(MIN_PERIOD);
      });

      it("can sell all that the batch holds", async function () {
        const { quantity } = await ctx.batches.getBatch(ctx.batchId);
        await sendCreateSale(ctx, termsOf(ctx, { quantity }));
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(quantity);
      });
    });

    context("when the caller is not the cooperative admin", function () {
      it("reverts with SaleEscrowNotSeller naming the sale id to be", async function () {
        for (const signer of [ctx.alice, ctx.outsider, ctx.deployer, ctx.registrar]) {
          await expect(sendCreateSale(ctx, termsOf(ctx), signer))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotSeller")
            .withArgs(1n, signer.address);
        }
        expect(await ctx.escrow.saleCount()).to.equal(0n);
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(0n);
      });

      it("names the next id once sales exist", async function () {
        await createSale(ctx);
        const before = await ledger(ctx, 1n);
        await expect(sendCreateSale(ctx, termsOf(ctx), ctx.buyer))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotSeller")
          .withArgs(2n, ctx.buyer.address);
        expect(await ledger(ctx, 1n)).to.deep.equal(before);
      });
    });

    context("when an input is invalid", function () {
      let before: Awaited<ReturnType<typeof ledger>>;

      beforeEach(async function () {
        before = await ledger(ctx);
      });

      afterEach(async function () {
        expect(await ledger(ctx)).to.deep.equal(before);
      });

      it("reverts with SaleEscrowZeroQuantity when the quantity is zero", async function () {
        await expect(sendCreateSale(ctx, termsOf(ctx, { quantity: 0n }))).to.be.revertedWithCustomError(
          ctx.escrow,
          "SaleEscrowZeroQuantity",
        );
      });

      it("reverts with SaleEscrowZeroPrice when the price is zero", async function () {
        await expect(sendCreateSale(ctx, termsOf(ctx, { price: 0n }))).to.be.revertedWithCustomError(
          ctx.escrow,
          "SaleEscrowZeroPrice",
        );
      });

      it("reverts with SaleEscrowTokenNotAllowed when the token is not allowed", async function () {
        const other = await (await ethers.getContractFactory("MockStablecoin")).deploy("Other", "OTH");
        await expect(sendCreateSale(ctx, termsOf(ctx, { token: await other.getAddress() })))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowTokenNotAllowed")
          .withArgs(await other.getAddress());
      });

      for (const [what, period] of [
        ["shorter than a day", MIN_PERIOD - 1],
        ["longer than 180 days", MAX_PERIOD + 1],
        ["zero", 0],
      ] as const) {
        it(`reverts with SaleEscrowInvalidPeriod when the shipping period is ${what}`, async function () {
          await expect(sendCreateSale(ctx, termsOf(ctx, { shippingPeriod: period })))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidPeriod")
            .withArgs(period, MIN_PERIOD, MAX_PERIOD);
        });

        it(`reverts with SaleEscrowInvalidPeriod when the dispute window is ${what}`, async function () {
          await expect(sendCreateSale(ctx, termsOf(ctx, { disputeWindow: period })))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidPeriod")
            .withArgs(period, MIN_PERIOD, MAX_PERIOD);
        });
      }

      it("reverts with BatchRegistryUnknownBatch when the batch is unknown", async function () {
        const unknown = ethers.id("no such batch");
        await expect(sendCreateSale(ctx, termsOf(ctx, { batchId: unknown })))
          .to.be.revertedWithCustomError(ctx.batches, "BatchRegistryUnknownBatch")
          .withArgs(unknown);
      });

      it("reverts with BatchRegistryQuantityExceeded beyond what the batch holds", async function () {
        const { quantity } = await ctx.batches.getBatch(ctx.batchId);
        await expect(sendCreateSale(ctx, termsOf(ctx, { quantity: quantity + 1n })))
          .to.be.revertedWithCustomError(ctx.batches, "BatchRegistryQuantityExceeded")
          .withArgs(ctx.batchId, quantity, quantity + 1n);
      });

      it("reverts with EnforcedPause while paused", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        await expect(sendCreateSale(ctx, termsOf(ctx))).to.be.revertedWithCustomError(ctx.escrow, "EnforcedPause");
        await ctx.escrow.connect(ctx.deployer).unpause();
      });
    });

    context("when earlier sales drew part of the batch", function () {
      it("reverts with BatchRegistryQuantityExceeded over what remains", async function () {
        const { quantity } = await ctx.batches.getBatch(ctx.batchId);
        await createSale(ctx, { quantity: quantity - 10n });
        const before = await ledger(ctx, 1n);
        await expect(sendCreateSale(ctx, termsOf(ctx, { quantity: 11n })))
          .to.be.revertedWithCustomError(ctx.batches, "BatchRegistryQuantityExceeded")
          .withArgs(ctx.batchId, 10n, 11n);
        expect(await ledger(ctx, 1n)).to.deep.equal(before);
      });
    });
  });

  describe("fund", function () {
    context("when the reserved buyer pays the price", function () {
      it("takes exactly the price into escrow", async function () {
        const saleId = await createSale(ctx);
        await ctx.changeBalances(ctx.pay(ctx.buyer, saleId, price), [ctx.buyer, ctx.escrow], [-price, price]);
        expect(await ctx.balanceOf(ctx.escrow)).to.equal(price);
      });

      it("emits SaleFunded with the shipping deadline and records the funding", async function () {
        const saleId = await createSale(ctx);
        const tx = await ctx.pay(ctx.buyer, saleId, price);
        const at = await timestampOf(tx);
        await expect(tx)
          .to.emit(ctx.escrow, "SaleFunded")
          .withArgs(saleId, ctx.buyer.address, ctx.token, price, at + SHIP);
        const sale = await ctx.escrow.getSale(saleId);
        expect(sale.state).to.equal(State.Funded);
        expect(sale.buyer).to.equal(ctx.buyer.address);
        expect(sale.fundedAt).to.equal(at);
      });
    });

    context("when another account pays a reserved sale", function () {
      it("reverts with SaleEscrowReservedForBuyer", async function () {
        const saleId = await createSale(ctx);
        const before = await ledger(ctx, saleId);
        await expect(ctx.pay(ctx.outsider, saleId, price))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowReservedForBuyer")
          .withArgs(saleId, ctx.buyer.address);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is an open offer", function () {
      it("makes the first funder the buyer", async function () {
        const saleId = await createSale(ctx, { buyer: ZeroAddress });
        const tx = await ctx.pay(ctx.outsider, saleId, price);
        await expect(tx)
          .to.emit(ctx.escrow, "SaleFunded")
          .withArgs(saleId, ctx.outsider.address, ctx.token, price, (await timestampOf(tx)) + SHIP);
        await ctx.changeBalances(tx, [ctx.outsider, ctx.escrow], [-price, price]);
        expect((await ctx.escrow.getSale(saleId)).buyer).to.equal(ctx.outsider.address);
      });

      it("reverts with SaleEscrowInvalidState for the second funder", async function () {
        const saleId = await createSale(ctx, { buyer: ZeroAddress });
        await ctx.pay(ctx.outsider, saleId, price);
        const before = await ledger(ctx, saleId);
        await expect(ctx.pay(ctx.buyer, saleId, price))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Funded, State.Created);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is already funded", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const saleId = await fundedSale(ctx);
        const before = await ledger(ctx, saleId);
        await expect(ctx.pay(ctx.buyer, saleId, price))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Funded, State.Created);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale was cancelled", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const saleId = await createSale(ctx);
        await ctx.escrow.connect(ctx.coopAdmin).cancel(saleId);
        const before = await ledger(ctx, saleId);
        await expect(ctx.pay(ctx.buyer, saleId, price))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Cancelled, State.Created);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale does not exist", function () {
      it("reverts with SaleEscrowUnknownSale", async function () {
        const before = await ledger(ctx);
        await expect(ctx.pay(ctx.buyer, 1n, price))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowUnknownSale")
          .withArgs(1n);
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });

    context("when the escrow is paused", function () {
      it("reverts with EnforcedPause", async function () {
        const saleId = await createSale(ctx);
        await ctx.escrow.connect(ctx.deployer).pause();
        const before = await ledger(ctx, saleId);
        await expect(ctx.pay(ctx.buyer, saleId, price)).to.be.revertedWithCustomError(ctx.escrow, "EnforcedPause");
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });
  });

  describe("markShipped", function () {
    let saleId: bigint;
    let shipBy: number;

    beforeEach(async function () {
      saleId = await fundedSale(ctx);
      shipBy = Number((await ctx.escrow.getSale(saleId)).fundedAt) + SHIP;
    });

    context("when the cooperative admin ships before the deadline", function () {
      it("emits SaleShipped with the end of the dispute window", async function () {
        const tx = await ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC);
        const at = await timestampOf(tx);
        await expect(tx)
          .to.emit(ctx.escrow, "SaleShipped")
          .withArgs(saleId, SHIPPING_DOC, at + WINDOW);
        const sale = await ctx.escrow.getSale(saleId);
        expect(sale.state).to.equal(State.Shipped);
        expect(sale.shippedAt).to.equal(at);
      });

      it("moves no money", async function () {
        await ctx.changeBalances(
          ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC),
          [ctx.escrow, ctx.buyer],
          [0n, 0n],
        );
      });

      it("succeeds at the deadline itself", async function () {
        await time.setNextBlockTimestamp(shipBy);
        await expect(ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC))
          .to.emit(ctx.escrow, "SaleShipped")
          .withArgs(saleId, SHIPPING_DOC, shipBy + WINDOW);
      });

      it("is allowed to a new cooperative admin after a handover", async function () {
        await ctx.registry.connect(ctx.registrar).setCooperativeAdmin(ctx.cooperativeId, ctx.dave.address);
        await expect(ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotSeller")
          .withArgs(saleId, ctx.coopAdmin.address);
        await expect(ctx.escrow.connect(ctx.dave).markShipped(saleId, SHIPPING_DOC)).to.emit(ctx.escrow, "SaleShipped");
      });
    });

    context("when the shipping deadline has passed", function () {
      it("reverts with SaleEscrowDeadline", async function () {
        await time.setNextBlockTimestamp(shipBy + 1);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowDeadline")
          .withArgs(saleId, shipBy);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the caller is not the cooperative admin", function () {
      it("reverts with SaleEscrowNotSeller", async function () {
        const before = await ledger(ctx, saleId);
        for (const signer of [ctx.buyer, ctx.alice, ctx.deployer]) {
          await expect(ctx.escrow.connect(signer).markShipped(saleId, SHIPPING_DOC))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotSeller")
            .withArgs(saleId, signer.address);
        }
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is not funded", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const created = await createSale(ctx);
        await expect(ctx.escrow.connect(ctx.coopAdmin).markShipped(created, SHIPPING_DOC))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(created, State.Created, State.Funded);
        await ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC);
        await expect(ctx.escrow.connect(ctx.coopAdmin).markShipped(saleId, SHIPPING_DOC))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Shipped, State.Funded);
      });
    });
  });

  describe("confirmDelivery", function () {
    context("when the buyer confirms a shipped sale", function () {
      it("emits DeliveryConfirmed and SaleReleased with the split", async function () {
        const saleId = await shippedSale(ctx);
        const { fee, reserve, net } = split(price);
        const tx = ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId);
        await expect(tx).to.emit(ctx.escrow, "DeliveryConfirmed").withArgs(saleId, ctx.buyer.address);
        await expect(tx)
          .to.emit(ctx.escrow, "SaleReleased")
          .withArgs(saleId, ctx.batchId, ctx.token, price, fee, reserve, net, net);
        expect(fee + reserve + net).to.equal(price);
      });

      it("books fee, reserve and net without moving money", async function () {
        const saleId = await shippedSale(ctx);
        const { fee, reserve, net } = split(price);
        await ctx.changeBalances(
          ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId),
          [ctx.escrow, ctx.buyer, ctx.feeRecipient, ctx.coopAdmin],
          [0n, 0n, 0n, 0n],
        );
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Released);
        expect(await ctx.escrow.released(ctx.batchId, ctx.token)).to.equal(net);
        expect(await ctx.escrow.credited(ctx.token, ctx.feeRecipient.address)).to.equal(fee);
        expect(await ctx.escrow.reserveOf(ctx.cooperativeId, ctx.token)).to.equal(reserve);
      });

      it("accumulates releasedTotal across two sales of the same batch", async function () {
        const price2 = ctx.amount("987.654321");
        const first = await shippedSale(ctx);
        const second = await shippedSale(ctx, { price: price2, quantity: 5n });
        const s1 = split(price);
        const s2 = split(price2);
        await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(first))
          .to.emit(ctx.escrow, "SaleReleased")
          .withArgs(first, ctx.batchId, ctx.token, price, s1.fee, s1.reserve, s1.net, s1.net);
        await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(second))
          .to.emit(ctx.escrow, "SaleReleased")
          .withArgs(second, ctx.batchId, ctx.token, price2, s2.fee, s2.reserve, s2.net, s1.net + s2.net);
        expect(await ctx.escrow.released(ctx.batchId, ctx.token)).to.equal(s1.net + s2.net);
        expect(await ctx.escrow.credited(ctx.token, ctx.feeRecipient.address)).to.equal(s1.fee + s2.fee);
        expect(await ctx.escrow.reserveOf(ctx.cooperativeId, ctx.token)).to.equal(s1.reserve + s2.reserve);
        for (const member of [ctx.alice, ctx.bob, ctx.carol]) {
          expect(await ctx.escrow.claimable(ctx.batchId, ctx.token, member.address, weightOf(member))).to.equal(
            shareOf(s1.net + s2.net, weightOf(member), ctx.tree.totalWeight),
          );
        }
      });
    });

    context("when the caller is not the buyer", function () {
      it("reverts with SaleEscrowNotBuyer", async function () {
        const saleId = await shippedSale(ctx);
        const before = await ledger(ctx, saleId);
        for (const signer of [ctx.coopAdmin, ctx.outsider, ctx.alice]) {
          await expect(ctx.escrow.connect(signer).confirmDelivery(saleId))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotBuyer")
            .withArgs(saleId, signer.address);
        }
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is not shipped", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const saleId = await fundedSale(ctx);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Funded, State.Shipped);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is already released", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const saleId = await releasedSale(ctx);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Released, State.Shipped);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });
  });

  describe("release", function () {
    let saleId: bigint;
    let disputeUntil: number;

    beforeEach(async function () {
      saleId = await shippedSale(ctx);
      disputeUntil = Number((await ctx.escrow.getSale(saleId)).shippedAt) + WINDOW;
    });

    context("when the dispute window has not ended", function () {
      it("reverts with SaleEscrowDeadline at the window edge", async function () {
        const before = await ledger(ctx, saleId);
        await time.setNextBlockTimestamp(disputeUntil);
        await expect(ctx.escrow.connect(ctx.outsider).release(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowDeadline")
          .withArgs(saleId, disputeUntil);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });

      it("reverts with SaleEscrowDeadline right after shipping", async function () {
        await expect(ctx.escrow.connect(ctx.outsider).release(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowDeadline")
          .withArgs(saleId, disputeUntil);
      });
    });

    context("when the dispute window has ended", function () {
      it("lets anyone release, with the split", async function () {
        const { fee, reserve, net } = split(price);
        await time.setNextBlockTimestamp(disputeUntil + 1);
        await expect(ctx.escrow.connect(ctx.outsider).release(saleId))
          .to.emit(ctx.escrow, "SaleReleased")
          .withArgs(saleId, ctx.batchId, ctx.token, price, fee, reserve, net, net);
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Released);
        expect(await ctx.escrow.released(ctx.batchId, ctx.token)).to.equal(net);
      });

      it("does not emit DeliveryConfirmed", async function () {
        await time.increaseTo(disputeUntil + 1);
        await expect(ctx.escrow.connect(ctx.outsider).release(saleId)).to.not.emit(ctx.escrow, "DeliveryConfirmed");
      });

      it("reverts with SaleEscrowInvalidState the second time", async function () {
        await time.increaseTo(disputeUntil + 1);
        await ctx.escrow.connect(ctx.outsider).release(saleId);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.outsider).release(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Released, State.Shipped);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is disputed", function () {
      it("reverts with SaleEscrowInvalidState even after the window", async function () {
        await ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON);
        await time.increaseTo(disputeUntil + 1);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.outsider).release(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Disputed, State.Shipped);
        await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Disputed, State.Shipped);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is not shipped", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const funded = await fundedSale(ctx);
        await time.increase(SHIP + WINDOW);
        await expect(ctx.escrow.connect(ctx.outsider).release(funded))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(funded, State.Funded, State.Shipped);
      });
    });
  });

  describe("openDispute", function () {
    let saleId: bigint;
    let disputeUntil: number;

    beforeEach(async function () {
      saleId = await shippedSale(ctx);
      disputeUntil = Number((await ctx.escrow.getSale(saleId)).shippedAt) + WINDOW;
    });

    context("when the buyer disputes within the window", function () {
      it("emits DisputeOpened and moves the sale to Disputed", async function () {
        await expect(ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON))
          .to.emit(ctx.escrow, "DisputeOpened")
          .withArgs(saleId, ctx.buyer.address, REASON);
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Disputed);
      });

      it("succeeds at the window edge", async function () {
        await time.setNextBlockTimestamp(disputeUntil);
        await expect(ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON))
          .to.emit(ctx.escrow, "DisputeOpened")
          .withArgs(saleId, ctx.buyer.address, REASON);
      });

      it("works while paused", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        await expect(ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON))
          .to.emit(ctx.escrow, "DisputeOpened")
          .withArgs(saleId, ctx.buyer.address, REASON);
      });
    });

    context("when the window has ended", function () {
      it("reverts with SaleEscrowDeadline", async function () {
        await time.setNextBlockTimestamp(disputeUntil + 1);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowDeadline")
          .withArgs(saleId, disputeUntil);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the caller is not the buyer", function () {
      it("reverts with SaleEscrowNotBuyer", async function () {
        const before = await ledger(ctx, saleId);
        for (const signer of [ctx.coopAdmin, ctx.outsider, ctx.arbiter]) {
          await expect(ctx.escrow.connect(signer).openDispute(saleId, REASON))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotBuyer")
            .withArgs(saleId, signer.address);
        }
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is not shipped", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const funded = await fundedSale(ctx);
        await expect(ctx.escrow.connect(ctx.buyer).openDispute(funded, REASON))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(funded, State.Funded, State.Shipped);
        await ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON);
        await expect(ctx.escrow.connect(ctx.buyer).openDispute(saleId, REASON))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Disputed, State.Shipped);
      });
    });
  });

  describe("resolveDispute", function () {
    let saleId: bigint;

    beforeEach(async function () {
      saleId = await disputedSale(ctx);
    });

    for (const refundBps of [0n, 3_000n, 10_000n]) {
      context(`when the arbiter refunds ${refundBps} bps`, function () {
        const refund = () => (price * refundBps) / 10_000n;

        it("emits DisputeResolved", async function () {
          await expect(ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, refundBps, RULING))
            .to.emit(ctx.escrow, "DisputeResolved")
            .withArgs(saleId, ctx.arbiter.address, refundBps, RULING);
          expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Resolved);
        });

        it("credits the refund to the buyer", async function () {
          const tx = ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, refundBps, RULING);
          if (refund() === 0n) {
            await expect(tx).to.not.emit(ctx.escrow, "SaleRefunded");
          } else {
            await expect(tx)
              .to.emit(ctx.escrow, "SaleRefunded")
              .withArgs(saleId, ctx.buyer.address, ctx.token, refund());
          }
          expect(await ctx.escrow.credited(ctx.token, ctx.buyer.address)).to.equal(refund());
        });

        it("releases and splits the rest", async function () {
          const rest = price - refund();
          const { fee, reserve, net } = split(rest);
          const tx = ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, refundBps, RULING);
          if (rest === 0n) {
            await expect(tx).to.not.emit(ctx.escrow, "SaleReleased");
          } else {
            await expect(tx)
              .to.emit(ctx.escrow, "SaleReleased")
              .withArgs(saleId, ctx.batchId, ctx.token, rest, fee, reserve, net, net);
          }
          expect(await ctx.escrow.released(ctx.batchId, ctx.token)).to.equal(net);
          expect(await ctx.escrow.credited(ctx.token, ctx.feeRecipient.address)).to.equal(fee);
          expect(await ctx.escrow.reserveOf(ctx.cooperativeId, ctx.token)).to.equal(reserve);
        });

        it("moves no money until withdrawn", async function () {
          await ctx.changeBalances(
            ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, refundBps, RULING),
            [ctx.escrow, ctx.buyer],
            [0n, 0n],
          );
        });
      });
    }

    context("when the refund share is above 10,000 bps", function () {
      it("reverts with SaleEscrowInvalidBps", async function () {
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, 10_001n, RULING))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidBps")
          .withArgs(10_001n, 10_000n);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the caller is not an arbiter", function () {
      it("reverts with AccessControlUnauthorizedAccount", async function () {
        const arbiterRole = await ctx.registry.ARBITER_ROLE();
        const before = await ledger(ctx, saleId);
        for (const signer of [ctx.deployer, ctx.coopAdmin, ctx.buyer, ctx.outsider]) {
          await expect(ctx.escrow.connect(signer).resolveDispute(saleId, 5_000n, RULING))
            .to.be.revertedWithCustomError(ctx.escrow, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, arbiterRole);
        }
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the sale is not disputed", function () {
      it("reverts with SaleEscrowInvalidState", async function () {
        const shipped = await shippedSale(ctx);
        await expect(ctx.escrow.connect(ctx.arbiter).resolveDispute(shipped, 5_000n, RULING))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(shipped, State.Shipped, State.Disputed);
        await ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, 5_000n, RULING);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, 5_000n, RULING))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(saleId, State.Resolved, State.Disputed);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the escrow is paused", function () {
      it("still settles the dispute", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        const refund = (price * 3_000n) / 10_000n;
        const { fee, reserve, net } = split(price - refund);
        const tx = ctx.escrow.connect(ctx.arbiter).resolveDispute(saleId, 3_000n, RULING);
        await expect(tx).to.emit(ctx.escrow, "SaleRefunded").withArgs(saleId, ctx.buyer.address, ctx.token, refund);
        await expect(tx)
          .to.emit(ctx.escrow, "SaleReleased")
          .withArgs(saleId, ctx.batchId, ctx.token, price - refund, fee, reserve, net, net);
      });
    });
  });

  describe("cancel", function () {
    context("when the seller withdraws a Created offer", function () {
      it("emits SaleCancelled and restores the quantity", async function () {
        const saleId = await createSale(ctx);
        const tx = ctx.escrow.connect(ctx.coopAdmin).cancel(saleId);
        await expect(tx).to.emit(ctx.escrow, "SaleCancelled").withArgs(saleId, ctx.coopAdmin.address);
        await expect(tx).to.emit(ctx.batches, "QuantityRestored").withArgs(ctx.batchId, QUANTITY, 0n);
        await expect(tx).to.not.emit(ctx.escrow, "SaleRefunded");
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Cancelled);
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(0n);
        expect(await ctx.escrow.credited(ctx.token, ctx.buyer.address)).to.equal(0n);
      });

      it("works while paused", async function () {
        const saleId = await createSale(ctx);
        await ctx.escrow.connect(ctx.deployer).pause();
        await expect(ctx.escrow.connect(ctx.coopAdmin).cancel(saleId))
          .to.emit(ctx.escrow, "SaleCancelled")
          .withArgs(saleId, ctx.coopAdmin.address);
      });
    });

    context("when someone else cancels a Created offer", function () {
      it("reverts with SaleEscrowNotSeller", async function () {
        const saleId = await createSale(ctx);
        const before = await ledger(ctx, saleId);
        for (const signer of [ctx.buyer, ctx.outsider, ctx.deployer]) {
          await expect(ctx.escrow.connect(signer).cancel(saleId))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotSeller")
            .withArgs(saleId, signer.address);
        }
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the seller gives up a Funded sale", function () {
      it("refunds the buyer by credit and restores the quantity", async function () {
        const saleId = await fundedSale(ctx);
        const tx = ctx.escrow.connect(ctx.coopAdmin).cancel(saleId);
        await expect(tx).to.emit(ctx.escrow, "SaleCancelled").withArgs(saleId, ctx.coopAdmin.address);
        await expect(tx).to.emit(ctx.escrow, "SaleRefunded").withArgs(saleId, ctx.buyer.address, ctx.token, price);
        await expect(tx).to.emit(ctx.batches, "QuantityRestored").withArgs(ctx.batchId, QUANTITY, 0n);
        await ctx.changeBalances(tx, [ctx.escrow, ctx.buyer], [0n, 0n]);
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Refunded);
        expect(await ctx.escrow.credited(ctx.token, ctx.buyer.address)).to.equal(price);
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(0n);
        expect(await ctx.escrow.released(ctx.batchId, ctx.token)).to.equal(0n);
      });

      it("works while paused", async function () {
        const saleId = await fundedSale(ctx);
        await ctx.escrow.connect(ctx.deployer).pause();
        await expect(ctx.escrow.connect(ctx.coopAdmin).cancel(saleId))
          .to.emit(ctx.escrow, "SaleRefunded")
          .withArgs(saleId, ctx.buyer.address, ctx.token, price);
      });
    });

    context("when the buyer cancels a Funded sale", function () {
      let saleId: bigint;
      let shipBy: number;

      beforeEach(async function () {
        saleId = await fundedSale(ctx);
        shipBy = Number((await ctx.escrow.getSale(saleId)).fundedAt) + SHIP;
      });

      it("reverts with SaleEscrowDeadline before the shipping deadline", async function () {
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).cancel(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowDeadline")
          .withArgs(saleId, shipBy);
        await time.setNextBlockTimestamp(shipBy);
        await expect(ctx.escrow.connect(ctx.buyer).cancel(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowDeadline")
          .withArgs(saleId, shipBy);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });

      it("refunds the buyer once the shipping deadline has passed", async function () {
        await time.setNextBlockTimestamp(shipBy + 1);
        const tx = ctx.escrow.connect(ctx.buyer).cancel(saleId);
        await expect(tx).to.emit(ctx.escrow, "SaleCancelled").withArgs(saleId, ctx.buyer.address);
        await expect(tx).to.emit(ctx.escrow, "SaleRefunded").withArgs(saleId, ctx.buyer.address, ctx.token, price);
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Refunded);
        expect(await ctx.escrow.credited(ctx.token, ctx.buyer.address)).to.equal(price);
        expect((await ctx.batches.getBatch(ctx.batchId)).drawn).to.equal(0n);
      });

      it("works while paused", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        await time.increaseTo(shipBy + 1);
        await expect(ctx.escrow.connect(ctx.buyer).cancel(saleId))
          .to.emit(ctx.escrow, "SaleCancelled")
          .withArgs(saleId, ctx.buyer.address);
      });

      it("reverts with SaleEscrowNotSeller for a third party", async function () {
        await time.increaseTo(shipBy + 1);
        await expect(ctx.escrow.connect(ctx.outsider).cancel(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotSeller")
          .withArgs(saleId, ctx.outsider.address);
      });
    });

    context("when the sale is past Funded", function () {
      it("reverts with SaleEscrowInvalidState for Shipped, Disputed, Released, Resolved", async function () {
        const shipped = await shippedSale(ctx);
        const disputed = await disputedSale(ctx);
        const released = await releasedSale(ctx);
        const resolved = await disputedSale(ctx);
        await ctx.escrow.connect(ctx.arbiter).resolveDispute(resolved, 5_000n, RULING);
        const before = await ledger(ctx);
        for (const [saleId, state] of [
          [shipped, State.Shipped],
          [disputed, State.Disputed],
          [released, State.Released],
          [resolved, State.Resolved],
        ] as const) {
          for (const signer of [ctx.coopAdmin, ctx.buyer]) {
            await expect(ctx.escrow.connect(signer).cancel(saleId))
              .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
              .withArgs(saleId, state, State.Funded);
          }
        }
        expect(await ledger(ctx)).to.deep.equal(before);
      });

      it("reverts with SaleEscrowInvalidState for Cancelled and Refunded", async function () {
        const cancelled = await createSale(ctx);
        await ctx.escrow.connect(ctx.coopAdmin).cancel(cancelled);
        const refunded = await fundedSale(ctx);
        await ctx.escrow.connect(ctx.coopAdmin).cancel(refunded);
        const before = await ledger(ctx);
        await expect(ctx.escrow.connect(ctx.coopAdmin).cancel(cancelled))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(cancelled, State.Cancelled, State.Funded);
        await expect(ctx.escrow.connect(ctx.coopAdmin).cancel(refunded))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidState")
          .withArgs(refunded, State.Refunded, State.Funded);
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });

    context("when the sale does not exist", function () {
      it("reverts with SaleEscrowUnknownSale", async function () {
        await expect(ctx.escrow.connect(ctx.coopAdmin).cancel(7n))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowUnknownSale")
          .withArgs(7n);
      });
    });
  });

  describe("claim and claimFor", function () {
    let net: bigint;

    beforeEach(async function () {
      await releasedSale(ctx);
      net = split(price).net;
    });

    context("when a contributor claims with a valid proof", function () {
      it("pays exactly its share and emits Claimed", async function () {
        for (const member of [ctx.alice, ctx.bob, ctx.carol]) {
          const due = shareOf(net, weightOf(member), ctx.tree.totalWeight);
          expect(await ctx.escrow.claimable(ctx.batchId, ctx.token, member.address, weightOf(member))).to.equal(due);
          const tx = ctx.escrow
            .connect(member)
            .claim(ctx.batchId, ctx.token, wordFor(member, weightOf(member)), proofOf(member));
          await expect(tx)
            .to.emit(ctx.escrow, "Claimed")
            .withArgs(ctx.batchId, ctx.token, member.address, due, weightOf(member));
          await ctx.changeBalances(tx, [member, ctx.escrow], [due, -due]);
          expect(await ctx.escrow.claimed(ctx.batchId, ctx.token, member.address)).to.equal(due);
          expect(await ctx.escrow.claimable(ctx.batchId, ctx.token, member.address, weightOf(member))).to.equal(0n);
        }
      });

      it("pays only the new part on a second claim", async function () {
        const w = weightOf(ctx.alice);
        await ctx.escrow.connect(ctx.alice).claim(ctx.batchId, ctx.token, wordFor(ctx.alice, w), proofOf(ctx.alice));
        const price2 = ctx.amount("55.000013");
        await releasedSale(ctx, { price: price2 });
        const total = net + split(price2).net;
        const fresh = shareOf(total, w, ctx.tree.totalWeight) - shareOf(net, w, ctx.tree.totalWeight);
        expect(await ctx.escrow.claimable(ctx.batchId, ctx.token, ctx.alice.address, w)).to.equal(fresh);
        const tx = ctx.escrow
          .connect(ctx.alice)
          .claim(ctx.batchId, ctx.token, wordFor(ctx.alice, w), proofOf(ctx.alice));
        await expect(tx).to.emit(ctx.escrow, "Claimed").withArgs(ctx.batchId, ctx.token, ctx.alice.address, fresh, w);
        await ctx.changeBalances(tx, [ctx.alice, ctx.escrow], [fresh, -fresh]);
        expect(await ctx.escrow.claimed(ctx.batchId, ctx.token, ctx.alice.address)).to.equal(
          shareOf(total, w, ctx.tree.totalWeight),
        );
      });

      it("works while paused", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        const w = weightOf(ctx.carol);
        const due = shareOf(net, w, ctx.tree.totalWeight);
        await expect(
          ctx.escrow.connect(ctx.carol).claim(ctx.batchId, ctx.token, wordFor(ctx.carol, w), proofOf(ctx.carol)),
        )
          .to.emit(ctx.escrow, "Claimed")
          .withArgs(ctx.batchId, ctx.token, ctx.carol.address, due, w);
      });
    });

    context("when nothing is due", function () {
      it("reverts with SaleEscrowNothingDue on a repeated claim", async function () {
        const w = weightOf(ctx.bob);
        await ctx.escrow.connect(ctx.bob).claim(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.bob));
        const before = await ledger(ctx);
        await expect(ctx.escrow.connect(ctx.bob).claim(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.bob)))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
          .withArgs(ctx.bob.address);
        expect(await ledger(ctx)).to.deep.equal(before);
      });

      it("reverts with SaleEscrowNothingDue for a batch with no release in the token", async function () {
        const other = await (await ethers.getContractFactory("MockStablecoin")).deploy("Other", "OTH");
        const otherToken = ctx.token === ZeroAddress ? await other.getAddress() : ZeroAddress;
        const w = weightOf(ctx.alice);
        expect(await ctx.escrow.claimable(ctx.batchId, otherToken, ctx.alice.address, w)).to.equal(0n);
        await expect(
          ctx.escrow.connect(ctx.alice).claim(ctx.batchId, otherToken, wordFor(ctx.alice, w), proofOf(ctx.alice)),
        )
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
          .withArgs(ctx.alice.address);
      });
    });

    context("when the proof does not match", function () {
      let before: Awaited<ReturnType<typeof ledger>>;

      beforeEach(async function () {
        before = await ledger(ctx);
      });

      afterEach(async function () {
        expect(await ledger(ctx)).to.deep.equal(before);
      });

      it("reverts with SaleEscrowNotContributor for another member's word and proof", async function () {
        const w = weightOf(ctx.bob);
        await expect(ctx.escrow.connect(ctx.alice).claim(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.bob)))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNotContributor")
          .withArgs(ctx.alice.address);
      });

      it("reverts with SaleEscrowInvalidProof for her index with another member's proof", async function () {
        const w = weightOf(ctx.bob);
        await expect(
          ctx.escrow.connect(ctx.alice).claim(ctx.batchId, ctx.token, wordFor(ctx.alice, w), proofOf(ctx.bob)),
        )
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidProof")
          .withArgs(ctx.batchId, wordFor(ctx.alice, w));
      });

      it("reverts with SaleEscrowInvalidProof for a wrong weight", async function () {
        const w = weightOf(ctx.alice) + 1n;
        await expect(
          ctx.escrow.connect(ctx.alice).claim(ctx.batchId, ctx.token, wordFor(ctx.alice, w), proofOf(ctx.alice)),
        )
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidProof")
          .withArgs(ctx.batchId, wordFor(ctx.alice, w));
      });

      it("reverts with SaleEscrowInvalidProof for a member who did not contribute", async function () {
        const w = weightOf(ctx.alice);
        await expect(
          ctx.escrow.connect(ctx.dave).claim(ctx.batchId, ctx.token, wordFor(ctx.dave, w), proofOf(ctx.alice)),
        )
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidProof")
          .withArgs(ctx.batchId, wordFor(ctx.dave, w));
      });

      it("reverts with SaleEscrowInvalidProof for a word with bits above the index", async function () {
        const word = wordFor(ctx.alice, weightOf(ctx.alice)) | (1n << 200n);
        await expect(ctx.escrow.connect(ctx.alice).claim(ctx.batchId, ctx.token, word, proofOf(ctx.alice)))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidProof")
          .withArgs(ctx.batchId, word);
      });

      it("reverts with SaleEscrowInvalidProof through claimFor", async function () {
        const w = weightOf(ctx.bob);
        await expect(
          ctx.escrow.connect(ctx.outsider).claimFor(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.carol)),
        )
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidProof")
          .withArgs(ctx.batchId, wordFor(ctx.bob, w));
      });
    });

    context("when someone claims for a member", function () {
      it("pays the member, not the caller", async function () {
        const w = weightOf(ctx.bob);
        const due = shareOf(net, w, ctx.tree.totalWeight);
        const tx = ctx.escrow
          .connect(ctx.outsider)
          .claimFor(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.bob));
        await expect(tx).to.emit(ctx.escrow, "Claimed").withArgs(ctx.batchId, ctx.token, ctx.bob.address, due, w);
        await ctx.changeBalances(tx, [ctx.bob, ctx.outsider, ctx.escrow], [due, 0n, -due]);
        expect(await ctx.escrow.claimed(ctx.batchId, ctx.token, ctx.bob.address)).to.equal(due);
        expect(await ctx.escrow.claimed(ctx.batchId, ctx.token, ctx.outsider.address)).to.equal(0n);
        await expect(ctx.escrow.connect(ctx.bob).claim(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.bob)))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
          .withArgs(ctx.bob.address);
      });

      it("works while paused", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        const w = weightOf(ctx.alice);
        const due = shareOf(net, w, ctx.tree.totalWeight);
        await expect(
          ctx.escrow.connect(ctx.outsider).claimFor(ctx.batchId, ctx.token, wordFor(ctx.alice, w), proofOf(ctx.alice)),
        )
          .to.emit(ctx.escrow, "Claimed")
          .withArgs(ctx.batchId, ctx.token, ctx.alice.address, due, w);
      });
    });

    context("claimMany", function () {
      it("pays one member her shares of several sales of the batch in one transfer", async function () {
        const price2 = ctx.amount("55.000013");
        await releasedSale(ctx, { price: price2 });
        const w = weightOf(ctx.alice);
        const claim = { batchId: ctx.batchId, contributor: wordFor(ctx.alice, w), proof: proofOf(ctx.alice) };
        const due = shareOf(net + split(price2).net, w, ctx.tree.totalWeight);
        const tx = ctx.escrow.connect(ctx.outsider).claimMany(ctx.token, [claim, claim]);
        await expect(tx).to.emit(ctx.escrow, "Claimed").withArgs(ctx.batchId, ctx.token, ctx.alice.address, due, w);
        await ctx.changeBalances(tx, [ctx.alice, ctx.escrow], [due, -due]);
        expect(await ctx.escrow.claimed(ctx.batchId, ctx.token, ctx.alice.address)).to.equal(due);
        await expect(ctx.escrow.connect(ctx.outsider).claimMany(ctx.token, [claim]))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
          .withArgs(ctx.alice.address);
      });

      it("reverts with SaleEscrowMixedClaims for two members, or none", async function () {
        const a = {
          batchId: ctx.batchId,
          contributor: wordFor(ctx.alice, weightOf(ctx.alice)),
          proof: proofOf(ctx.alice),
        };
        const b = { batchId: ctx.batchId, contributor: wordFor(ctx.bob, weightOf(ctx.bob)), proof: proofOf(ctx.bob) };
        const before = await ledger(ctx);
        await expect(ctx.escrow.connect(ctx.outsider).claimMany(ctx.token, [a, b]))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowMixedClaims")
          .withArgs(1n);
        await expect(ctx.escrow.connect(ctx.outsider).claimMany(ctx.token, []))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowMixedClaims")
          .withArgs(0n);
        expect(await ledger(ctx)).to.deep.equal(before);
      });

      it("reverts with SaleEscrowInvalidProof naming the bad word", async function () {
        const a = {
          batchId: ctx.batchId,
          contributor: wordFor(ctx.alice, weightOf(ctx.alice)),
          proof: proofOf(ctx.alice),
        };
        const bad = { ...a, contributor: a.contributor + 1n };
        await expect(ctx.escrow.connect(ctx.outsider).claimMany(ctx.token, [a, bad]))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInvalidProof")
          .withArgs(ctx.batchId, bad.contributor);
      });
    });

    context("payAll", function () {
      it("pays every contributor her share in one transaction, then nothing more", async function () {
        const members = [ctx.alice, ctx.bob, ctx.carol];
        const dues = members.map((m) => shareOf(net, weightOf(m), ctx.tree.totalWeight));
        const tx = ctx.escrow.connect(ctx.outsider).payAll(ctx.batchId, ctx.token, ctx.tree.words);
        for (const [i, m] of members.entries()) {
          await expect(tx)
            .to.emit(ctx.escrow, "Claimed")
            .withArgs(ctx.batchId, ctx.token, m.address, dues[i], weightOf(m));
        }
        const total = dues.reduce((a, b) => a + b, 0n);
        await ctx.changeBalances(tx, [...members, ctx.escrow], [...dues, -total]);
        for (const [i, m] of members.entries()) {
          expect(await ctx.escrow.claimed(ctx.batchId, ctx.token, m.address)).to.equal(dues[i]);
        }
        // Again: nothing is due, nothing moves.
        const again = await (
          await ctx.escrow.connect(ctx.outsider).payAll(ctx.batchId, ctx.token, ctx.tree.words)
        ).wait();
        expect(paidOut(ctx, again)).to.equal(0n);
        await expect(
          ctx.escrow
            .connect(ctx.alice)
            .claim(ctx.batchId, ctx.token, wordFor(ctx.alice, weightOf(ctx.alice)), proofOf(ctx.alice)),
        ).to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue");
      });

      it("pays only what a member has not claimed yet", async function () {
        const w = weightOf(ctx.bob);
        await ctx.escrow.connect(ctx.bob).claim(ctx.batchId, ctx.token, wordFor(ctx.bob, w), proofOf(ctx.bob));
        const price2 = ctx.amount("7.000001");
        await releasedSale(ctx, { price: price2 });
        const fresh = shareOf(net + split(price2).net, w, ctx.tree.totalWeight) - shareOf(net, w, ctx.tree.totalWeight);
        const tx = ctx.escrow.connect(ctx.outsider).payAll(ctx.batchId, ctx.token, ctx.tree.words);
        await expect(tx).to.emit(ctx.escrow, "Claimed").withArgs(ctx.batchId, ctx.token, ctx.bob.address, fresh, w);
      });

      it("reverts with SaleEscrowWrongContributors for a list that is not the batch's", async function () {
        const before = await ledger(ctx);
        for (const list of [[], ctx.tree.words.slice(1), [...ctx.tree.words].reverse()]) {
          await expect(ctx.escrow.connect(ctx.outsider).payAll(ctx.batchId, ctx.token, list))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowWrongContributors")
            .withArgs(ctx.batchId);
        }
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });

    context("claimable", function () {
      it("returns 0 for a weight above the batch's total", async function () {
        expect(
          await ctx.escrow.claimable(ctx.batchId, ctx.token, ctx.alice.address, ctx.tree.totalWeight + 1n),
        ).to.equal(0n);
      });
    });
  });

  describe("withdraw", function () {
    context("when the buyer was refunded", function () {
      let saleId: bigint;

      beforeEach(async function () {
        saleId = await fundedSale(ctx);
        await ctx.escrow.connect(ctx.coopAdmin).cancel(saleId);
      });

      it("pays the refund to the buyer, whoever calls", async function () {
        const tx = ctx.escrow.connect(ctx.outsider).withdraw(ctx.token, ctx.buyer.address);
        await expect(tx).to.emit(ctx.escrow, "Withdrawn").withArgs(ctx.token, ctx.buyer.address, price);
        await ctx.changeBalances(tx, [ctx.buyer, ctx.outsider, ctx.escrow], [price, 0n, -price]);
        expect(await ctx.escrow.credited(ctx.token, ctx.buyer.address)).to.equal(0n);
      });

      it("reverts with SaleEscrowNothingDue the second time", async function () {
        await ctx.escrow.connect(ctx.buyer).withdraw(ctx.token, ctx.buyer.address);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).withdraw(ctx.token, ctx.buyer.address))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
          .withArgs(ctx.buyer.address);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });

      it("works while paused", async function () {
        await ctx.escrow.connect(ctx.deployer).pause();
        await expect(ctx.escrow.connect(ctx.buyer).withdraw(ctx.token, ctx.buyer.address))
          .to.emit(ctx.escrow, "Withdrawn")
          .withArgs(ctx.token, ctx.buyer.address, price);
      });
    });

    context("when fees were credited", function () {
      it("pays the fees to the fee recipient", async function () {
        await releasedSale(ctx);
        const { fee } = split(price);
        const tx = ctx.escrow.connect(ctx.outsider).withdraw(ctx.token, ctx.feeRecipient.address);
        await expect(tx).to.emit(ctx.escrow, "Withdrawn").withArgs(ctx.token, ctx.feeRecipient.address, fee);
        await ctx.changeBalances(tx, [ctx.feeRecipient, ctx.escrow], [fee, -fee]);
        expect(await ctx.escrow.credited(ctx.token, ctx.feeRecipient.address)).to.equal(0n);
        await expect(ctx.escrow.withdraw(ctx.token, ctx.feeRecipient.address))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
          .withArgs(ctx.feeRecipient.address);
      });
    });

    context("when nothing was credited", function () {
      it("reverts with SaleEscrowNothingDue", async function () {
        await releasedSale(ctx);
        const before = await ledger(ctx);
        for (const account of [ctx.buyer, ctx.alice, ctx.outsider]) {
          await expect(ctx.escrow.withdraw(ctx.token, account.address))
            .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
            .withArgs(account.address);
        }
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });
  });

  describe("withdrawReserve", function () {
    let reserve: bigint;

    beforeEach(async function () {
      await releasedSale(ctx);
      reserve = split(price).reserve;
    });

    context("when the cooperative admin withdraws", function () {
      it("pays part of the reserve to the given account", async function () {
        const part = reserve / 3n;
        const tx = ctx.escrow
          .connect(ctx.coopAdmin)
          .withdrawReserve(ctx.cooperativeId, ctx.token, ctx.dave.address, part);
        await expect(tx)
          .to.emit(ctx.escrow, "ReserveWithdrawn")
          .withArgs(ctx.cooperativeId, ctx.token, ctx.dave.address, part);
        await ctx.changeBalances(tx, [ctx.dave, ctx.coopAdmin, ctx.escrow], [part, 0n, -part]);
        expect(await ctx.escrow.reserveOf(ctx.cooperativeId, ctx.token)).to.equal(reserve - part);
      });

      it("can empty the reserve", async function () {
        await ctx.changeBalances(
          ctx.escrow
            .connect(ctx.coopAdmin)
            .withdrawReserve(ctx.cooperativeId, ctx.token, ctx.coopAdmin.address, reserve),
          [ctx.coopAdmin, ctx.escrow],
          [reserve, -reserve],
        );
        expect(await ctx.escrow.reserveOf(ctx.cooperativeId, ctx.token)).to.equal(0n);
      });
    });

    context("when the caller is not the cooperative admin", function () {
      it("reverts with CooperativeRegistryNotCooperativeAdmin", async function () {
        const before = await ledger(ctx);
        for (const signer of [ctx.alice, ctx.deployer, ctx.registrar, ctx.outsider]) {
          await expect(
            ctx.escrow.connect(signer).withdrawReserve(ctx.cooperativeId, ctx.token, signer.address, reserve),
          )
            .to.be.revertedWithCustomError(ctx.registry, "CooperativeRegistryNotCooperativeAdmin")
            .withArgs(ctx.cooperativeId, signer.address);
        }
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });

    context("when more is asked than the reserve holds", function () {
      it("reverts with SaleEscrowInsufficientReserve", async function () {
        const before = await ledger(ctx);
        await expect(
          ctx.escrow
            .connect(ctx.coopAdmin)
            .withdrawReserve(ctx.cooperativeId, ctx.token, ctx.coopAdmin.address, reserve + 1n),
        )
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowInsufficientReserve")
          .withArgs(ctx.cooperativeId, ctx.token, reserve, reserve + 1n);
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });

    context("when the recipient is the zero address", function () {
      it("reverts with SaleEscrowZeroAddress", async function () {
        const before = await ledger(ctx);
        await expect(
          ctx.escrow.connect(ctx.coopAdmin).withdrawReserve(ctx.cooperativeId, ctx.token, ZeroAddress, reserve),
        ).to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowZeroAddress");
        expect(await ledger(ctx)).to.deep.equal(before);
      });
    });
  });

  describe("fee snapshot", function () {
    it("keeps the fee and reserve rates of the sale's creation", async function () {
      const saleId = await shippedSale(ctx);
      await ctx.escrow.connect(ctx.deployer).setFeeBps(500);
      await ctx.registry.connect(ctx.coopAdmin).setReserveRate(ctx.cooperativeId, 2_500);
      const sale = await ctx.escrow.getSale(saleId);
      expect(sale.feeBps).to.equal(FEE_BPS);
      expect(sale.reserveBps).to.equal(RESERVE_BPS);
      const { fee, reserve, net } = split(price);
      await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId))
        .to.emit(ctx.escrow, "SaleReleased")
        .withArgs(saleId, ctx.batchId, ctx.token, price, fee, reserve, net, net);
    });

    it("applies the new rates to sales created afterwards", async function () {
      await ctx.escrow.connect(ctx.deployer).setFeeBps(500);
      await ctx.registry.connect(ctx.coopAdmin).setReserveRate(ctx.cooperativeId, 2_500);
      await expect(sendCreateSale(ctx, termsOf(ctx)))
        .to.emit(ctx.escrow, "SaleCreated")
        .withArgs(
          1n,
          ctx.batchId,
          ctx.cooperativeId,
          ctx.coopAdmin.address,
          ctx.buyer.address,
          ctx.token,
          price,
          QUANTITY,
          500n,
          2_500n,
          SHIP,
          WINDOW,
        );
      await ctx.pay(ctx.buyer, 1n, price);
      await ctx.escrow.connect(ctx.coopAdmin).markShipped(1n, SHIPPING_DOC);
      const { fee, reserve, net } = splitRevenue(price, 500n, 2_500n);
      await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(1n))
        .to.emit(ctx.escrow, "SaleReleased")
        .withArgs(1n, ctx.batchId, ctx.token, price, fee, reserve, net, net);
    });
  });

  describe("accounting", function () {
    it("pays out exactly what the buyers paid, less what is still claimable and the dust", async function () {
      const { escrow, batchId, token, cooperativeId } = ctx;
      const prices = [price, ctx.amount("987.654321"), ctx.amount("333.333333"), ctx.amount("42.000001")];

      // 1: confirmed by the buyer.
      await releasedSale(ctx, { price: prices[0] });
      // 2: an open offer taken by the outsider, released by anyone after the window.
      const s2 = await shippedSale(ctx, { price: prices[1], buyer: ZeroAddress }, ctx.outsider);
      await time.increase(WINDOW + 1);
      await escrow.connect(ctx.dave).release(s2);
      // 3: disputed, 30% refunded.
      const s3 = await disputedSale(ctx, { price: prices[2] });
      await escrow.connect(ctx.arbiter).resolveDispute(s3, 3_000n, RULING);
      // 4: funded, then given up by the seller.
      const s4 = await fundedSale(ctx, { price: prices[3] });
      await escrow.connect(ctx.coopAdmin).cancel(s4);
      // 5: offered and withdrawn, no money.
      const s5 = await createSale(ctx);
      await escrow.connect(ctx.coopAdmin).cancel(s5);

      const deposits = prices.reduce((a, b) => a + b, 0n);
      expect(await ctx.balanceOf(escrow)).to.equal(deposits);
      expect((await ctx.batches.getBatch(batchId)).drawn).to.equal(3n * QUANTITY);

      const refund3 = (prices[2] * 3_000n) / 10_000n;
      const splits = [split(prices[0]), split(prices[1]), split(prices[2] - refund3)];
      const fees = splits.reduce((a, s) => a + s.fee, 0n);
      const reserves = splits.reduce((a, s) => a + s.reserve, 0n);
      const released = splits.reduce((a, s) => a + s.net, 0n);
      expect(await escrow.released(batchId, token)).to.equal(released);
      expect(await escrow.credited(token, ctx.feeRecipient.address)).to.equal(fees);
      expect(await escrow.reserveOf(cooperativeId, token)).to.equal(reserves);
      expect(await escrow.credited(token, ctx.buyer.address)).to.equal(refund3 + prices[3]);

      let payouts = 0n;
      const receipts = [
        await (
          await escrow
            .connect(ctx.alice)
            .claim(batchId, token, wordFor(ctx.alice, weightOf(ctx.alice)), proofOf(ctx.alice))
        ).wait(),
        await (
          await escrow
            .connect(ctx.outsider)
            .claimFor(batchId, token, wordFor(ctx.bob, weightOf(ctx.bob)), proofOf(ctx.bob))
        ).wait(),
        await (await escrow.withdraw(token, ctx.buyer.address)).wait(),
        await (await escrow.withdraw(token, ctx.feeRecipient.address)).wait(),
        await (
          await escrow.connect(ctx.coopAdmin).withdrawReserve(cooperativeId, token, ctx.coopAdmin.address, reserves)
        ).wait(),
      ];
      for (const receipt of receipts) payouts += paidOut(ctx, receipt);

      // carol has not claimed yet.
      let stillClaimable = 0n;
      let entitled = 0n;
      for (const c of ctx.tree.contributors) {
        stillClaimable += await escrow.claimable(batchId, token, c.account, c.weight);
        entitled += shareOf(released, c.weight, ctx.tree.totalWeight);
      }
      expect(stillClaimable).to.equal(shareOf(released, weightOf(ctx.carol), ctx.tree.totalWeight));
      const dust = released - entitled;
      expect(dust).to.be.gte(0n);
      expect(dust).to.be.lt(BigInt(ctx.tree.contributors.length));

      expect(payouts + stillClaimable + dust).to.equal(deposits);
      expect(payouts).to.equal(
        shareOf(released, weightOf(ctx.alice), ctx.tree.totalWeight) +
          shareOf(released, weightOf(ctx.bob), ctx.tree.totalWeight) +
          refund3 +
          prices[3] +
          fees +
          reserves,
      );
      expect(await ctx.balanceOf(escrow)).to.equal(stillClaimable + dust);

      // carol claims: only the dust stays in escrow.
      await escrow
        .connect(ctx.carol)
        .claim(batchId, token, wordFor(ctx.carol, weightOf(ctx.carol)), proofOf(ctx.carol));
      expect(await ctx.balanceOf(escrow)).to.equal(dust);
    });
  });
}
