import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress, ZeroHash, parseEther, parseUnits } from "ethers";
import { FEE_BPS, deployPlatform, deployWithBatch } from "../helpers/fixtures";
import {
  MAX_PERIOD,
  MIN_PERIOD,
  SHIPPING_DOC,
  State,
  createSale,
  fundedSale,
  ledger,
  priceOf,
  sendCreateSale,
  shippedSale,
  shouldBehaveLikeSaleEscrow,
  termsOf,
  type SaleEscrowContext,
} from "./behaviours/SaleEscrow.behaviour";

async function inEth(): Promise<SaleEscrowContext> {
  const platform = await deployWithBatch();
  const { escrow } = platform;
  return {
    ...platform,
    token: ZeroAddress,
    amount: (value) => parseEther(value),
    pay: (signer, saleId, amount) => escrow.connect(signer).fund(saleId, { value: amount }),
    balanceOf: (account) => ethers.provider.getBalance(account),
    changeBalances: (tx, accounts, deltas) => expect(tx).to.changeEtherBalances(accounts, deltas),
  };
}

async function inStablecoin(): Promise<SaleEscrowContext> {
  const platform = await deployWithBatch();
  const { escrow, stablecoin } = platform;
  const decimals = Number(await stablecoin.decimals());
  return {
    ...platform,
    token: await stablecoin.getAddress(),
    amount: (value) => parseUnits(value, decimals),
    pay: async (signer, saleId, amount) => {
      await stablecoin.mint(signer.address, amount);
      await stablecoin.connect(signer).approve(escrow, amount);
      return escrow.connect(signer).fund(saleId);
    },
    balanceOf: (account) => stablecoin.balanceOf(account),
    changeBalances: (tx, accounts, deltas) => expect(tx).to.changeTokenBalances(stablecoin, accounts, deltas),
  };
}

describe("SaleEscrow in ETH", function () {
  shouldBehaveLikeSaleEscrow(() => loadFixture(inEth));

  describe("fund with the wrong value", function () {
    it("reverts with SaleEscrowWrongPayment", async function () {
      const ctx = await loadFixture(inEth);
      const price = priceOf(ctx);
      const saleId = await createSale(ctx);
      const before = await ledger(ctx, saleId);
      for (const value of [0n, price - 1n, price + 1n]) {
        await expect(ctx.escrow.connect(ctx.buyer).fund(saleId, { value }))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowWrongPayment")
          .withArgs(price, value);
      }
      expect(await ledger(ctx, saleId)).to.deep.equal(before);
    });
  });

  describe("ether forced in", function () {
    it("changes no account of the escrow", async function () {
      const ctx = await loadFixture(inEth);
      await shippedSale(ctx);
      const before = await ledger(ctx, 1n);
      const forced = parseEther("1");
      await (await ethers.getContractFactory("ForceSend")).deploy(await ctx.escrow.getAddress(), { value: forced });
      const after = await ledger(ctx, 1n);
      expect(after.escrowBalance).to.equal(before.escrowBalance + forced);
      expect({ ...after, escrowBalance: 0n }).to.deep.equal({ ...before, escrowBalance: 0n });
      await expect(ctx.escrow.withdraw(ZeroAddress, ctx.outsider.address))
        .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowNothingDue")
        .withArgs(ctx.outsider.address);
    });
  });
});

describe("SaleEscrow in a 6-decimal stablecoin", function () {
  shouldBehaveLikeSaleEscrow(() => loadFixture(inStablecoin));

  describe("fund", function () {
    context("when ETH is sent with a token payment", function () {
      it("reverts with SaleEscrowUnexpectedEth", async function () {
        const ctx = await loadFixture(inStablecoin);
        const price = priceOf(ctx);
        const saleId = await createSale(ctx);
        await ctx.stablecoin.mint(ctx.buyer.address, price);
        await ctx.stablecoin.connect(ctx.buyer).approve(ctx.escrow, price);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).fund(saleId, { value: 1n })).to.be.revertedWithCustomError(
          ctx.escrow,
          "SaleEscrowUnexpectedEth",
        );
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
        expect(await ethers.provider.getBalance(ctx.escrow)).to.equal(0n);
      });
    });

    context("when the buyer has not approved the price", function () {
      it("reverts with ERC20InsufficientAllowance", async function () {
        const ctx = await loadFixture(inStablecoin);
        const price = priceOf(ctx);
        const saleId = await createSale(ctx);
        await ctx.stablecoin.mint(ctx.buyer.address, price);
        await ctx.stablecoin.connect(ctx.buyer).approve(ctx.escrow, price - 1n);
        const before = await ledger(ctx, saleId);
        await expect(ctx.escrow.connect(ctx.buyer).fund(saleId))
          .to.be.revertedWithCustomError(ctx.stablecoin, "ERC20InsufficientAllowance")
          .withArgs(await ctx.escrow.getAddress(), price - 1n, price);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });
    });

    context("when the token was disallowed after the sale was created", function () {
      it("reverts with SaleEscrowTokenNotAllowed", async function () {
        const ctx = await loadFixture(inStablecoin);
        const price = priceOf(ctx);
        const saleId = await createSale(ctx);
        await ctx.escrow.connect(ctx.deployer).setTokenAllowed(ctx.token, false);
        const before = await ledger(ctx, saleId);
        await expect(ctx.pay(ctx.buyer, saleId, price))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowTokenNotAllowed")
          .withArgs(ctx.token);
        await expect(sendCreateSale(ctx, termsOf(ctx)))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowTokenNotAllowed")
          .withArgs(ctx.token);
        expect(await ledger(ctx, saleId)).to.deep.equal(before);
      });

      it("still completes a sale funded before", async function () {
        const ctx = await loadFixture(inStablecoin);
        const saleId = await shippedSale(ctx);
        await ctx.escrow.connect(ctx.deployer).setTokenAllowed(ctx.token, false);
        await expect(ctx.escrow.connect(ctx.buyer).confirmDelivery(saleId)).to.emit(ctx.escrow, "SaleReleased");
        const word = ctx.tree.wordOf(ctx.alice.address);
        await expect(
          ctx.escrow.connect(ctx.alice).claim(ctx.batchId, ctx.token, word, ctx.tree.proof(ctx.alice.address)),
        ).to.emit(ctx.escrow, "Claimed");
      });
    });

    context("when the token takes a fee on transfer", function () {
      it("reverts with SaleEscrowTransferShortfall", async function () {
        const ctx = await loadFixture(inStablecoin);
        const fot = await (await ethers.getContractFactory("FeeOnTransferToken")).deploy();
        const token = await fot.getAddress();
        await ctx.escrow.connect(ctx.deployer).setTokenAllowed(token, true);
        const price = 1_000_000n;
        const saleId = await createSale(ctx, { token, price });
        await fot.mint(ctx.buyer.address, price);
        await fot.connect(ctx.buyer).approve(ctx.escrow, price);
        await expect(ctx.escrow.connect(ctx.buyer).fund(saleId))
          .to.be.revertedWithCustomError(ctx.escrow, "SaleEscrowTransferShortfall")
          .withArgs(price, price - price / 100n);
        expect((await ctx.escrow.getSale(saleId)).state).to.equal(State.Created);
        expect(await fot.balanceOf(ctx.buyer.address)).to.equal(price);
      });
    });
  });
});

describe("SaleEscrow administration", function () {
  describe("setTokenAllowed", function () {
    context("when the platform admin calls", function () {
      it("allows and disallows a token", async function () {
        const { escrow, deployer } = await loadFixture(deployPlatform);
        const token = ethers.Wallet.createRandom().address;
        expect(await escrow.isTokenAllowed(token)).to.equal(false);
        await expect(escrow.connect(deployer).setTokenAllowed(token, true))
          .to.emit(escrow, "TokenAllowed")
          .withArgs(token, true);
        expect(await escrow.isTokenAllowed(token)).to.equal(true);
        await expect(escrow.connect(deployer).setTokenAllowed(token, false))
          .to.emit(escrow, "TokenAllowed")
          .withArgs(token, false);
        expect(await escrow.isTokenAllowed(token)).to.equal(false);
      });

      it("always allows ETH and reverts with SaleEscrowZeroAddress for it", async function () {
        const { escrow, deployer } = await loadFixture(deployPlatform);
        expect(await escrow.isTokenAllowed(ZeroAddress)).to.equal(true);
        await expect(escrow.connect(deployer).setTokenAllowed(ZeroAddress, false)).to.be.revertedWithCustomError(
          escrow,
          "SaleEscrowZeroAddress",
        );
        expect(await escrow.isTokenAllowed(ZeroAddress)).to.equal(true);
      });
    });

    context("when another account calls", function () {
      it("reverts with AccessControlUnauthorizedAccount", async function () {
        const { escrow, stablecoin, registrar, coopAdmin, arbiter, outsider } = await loadFixture(deployPlatform);
        for (const signer of [registrar, coopAdmin, arbiter, outsider]) {
          await expect(escrow.connect(signer).setTokenAllowed(stablecoin, false))
            .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, ZeroHash);
        }
        expect(await escrow.isTokenAllowed(stablecoin)).to.equal(true);
      });
    });
  });

  describe("setFeeBps", function () {
    context("when the platform admin sets a fee up to 500 bps", function () {
      it("emits FeeChanged and stores the fee", async function () {
        const { escrow, deployer } = await loadFixture(deployPlatform);
        expect(await escrow.feeBps()).to.equal(FEE_BPS);
        await expect(escrow.connect(deployer).setFeeBps(500)).to.emit(escrow, "FeeChanged").withArgs(FEE_BPS, 500);
        expect(await escrow.feeBps()).to.equal(500n);
        await expect(escrow.connect(deployer).setFeeBps(0)).to.emit(escrow, "FeeChanged").withArgs(500, 0);
        expect(await escrow.feeBps()).to.equal(0n);
      });
    });

    context("when the fee is above 500 bps", function () {
      it("reverts with SaleEscrowInvalidBps", async function () {
        const { escrow, deployer } = await loadFixture(deployPlatform);
        await expect(escrow.connect(deployer).setFeeBps(501))
          .to.be.revertedWithCustomError(escrow, "SaleEscrowInvalidBps")
          .withArgs(501, 500);
        expect(await escrow.feeBps()).to.equal(FEE_BPS);
      });
    });

    context("when another account calls", function () {
      it("reverts with AccessControlUnauthorizedAccount", async function () {
        const { escrow, registrar, coopAdmin, feeRecipient } = await loadFixture(deployPlatform);
        for (const signer of [registrar, coopAdmin, feeRecipient]) {
          await expect(escrow.connect(signer).setFeeBps(100))
            .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, ZeroHash);
        }
        expect(await escrow.feeBps()).to.equal(FEE_BPS);
      });
    });
  });

  describe("setFeeRecipient", function () {
    context("when the platform admin sets a recipient", function () {
      it("emits FeeRecipientChanged and stores it", async function () {
        const { escrow, deployer, feeRecipient, outsider } = await loadFixture(deployPlatform);
        expect(await escrow.feeRecipient()).to.equal(feeRecipient.address);
        await expect(escrow.connect(deployer).setFeeRecipient(outsider.address))
          .to.emit(escrow, "FeeRecipientChanged")
          .withArgs(feeRecipient.address, outsider.address);
        expect(await escrow.feeRecipient()).to.equal(outsider.address);
      });
    });

    context("when the recipient is the zero address", function () {
      it("reverts with SaleEscrowZeroAddress", async function () {
        const { escrow, deployer, feeRecipient } = await loadFixture(deployPlatform);
        await expect(escrow.connect(deployer).setFeeRecipient(ZeroAddress)).to.be.revertedWithCustomError(
          escrow,
          "SaleEscrowZeroAddress",
        );
        expect(await escrow.feeRecipient()).to.equal(feeRecipient.address);
      });
    });

    context("when another account calls", function () {
      it("reverts with AccessControlUnauthorizedAccount", async function () {
        const { escrow, feeRecipient, registrar, outsider } = await loadFixture(deployPlatform);
        for (const signer of [feeRecipient, registrar, outsider]) {
          await expect(escrow.connect(signer).setFeeRecipient(signer.address))
            .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, ZeroHash);
        }
        expect(await escrow.feeRecipient()).to.equal(feeRecipient.address);
      });
    });
  });

  describe("pause and unpause", function () {
    context("when the platform admin calls", function () {
      it("pauses and unpauses", async function () {
        const { escrow, deployer } = await loadFixture(deployPlatform);
        await expect(escrow.connect(deployer).pause()).to.emit(escrow, "Paused").withArgs(deployer.address);
        expect(await escrow.paused()).to.equal(true);
        await expect(escrow.connect(deployer).pause()).to.be.revertedWithCustomError(escrow, "EnforcedPause");
        await expect(escrow.connect(deployer).unpause()).to.emit(escrow, "Unpaused").withArgs(deployer.address);
        expect(await escrow.paused()).to.equal(false);
        await expect(escrow.connect(deployer).unpause()).to.be.revertedWithCustomError(escrow, "ExpectedPause");
      });

      it("lets sales be created again after unpause", async function () {
        const { escrow, deployer, coopAdmin, batchId } = await loadFixture(deployWithBatch);
        await escrow.connect(deployer).pause();
        await escrow.connect(deployer).unpause();
        await expect(
          escrow.connect(coopAdmin).createSale(batchId, 1n, ZeroAddress, 1n, ZeroAddress, MIN_PERIOD, MIN_PERIOD),
        ).to.emit(escrow, "SaleCreated");
      });
    });

    context("when another account calls", function () {
      it("reverts with AccessControlUnauthorizedAccount", async function () {
        const { escrow, deployer, registrar, arbiter, coopAdmin, outsider } = await loadFixture(deployPlatform);
        for (const signer of [registrar, arbiter, coopAdmin, outsider]) {
          await expect(escrow.connect(signer).pause())
            .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, ZeroHash);
        }
        expect(await escrow.paused()).to.equal(false);
        await escrow.connect(deployer).pause();
        for (const signer of [registrar, arbiter, coopAdmin, outsider]) {
          await expect(escrow.connect(signer).unpause())
            .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, ZeroHash);
        }
        expect(await escrow.paused()).to.equal(true);
      });
    });
  });

  describe("getSale and saleCount", function () {
    it("reverts with SaleEscrowUnknownSale for an unknown id", async function () {
      const { escrow, coopAdmin, batchId } = await loadFixture(deployWithBatch);
      expect(await escrow.saleCount()).to.equal(0n);
      for (const id of [0n, 1n]) {
        await expect(escrow.getSale(id)).to.be.revertedWithCustomError(escrow, "SaleEscrowUnknownSale").withArgs(id);
      }
      await escrow.connect(coopAdmin).createSale(batchId, 1n, ZeroAddress, 1n, ZeroAddress, MIN_PERIOD, MIN_PERIOD);
      expect(await escrow.saleCount()).to.equal(1n);
      expect((await escrow.getSale(1n)).state).to.equal(State.Created);
      await expect(escrow.getSale(2n)).to.be.revertedWithCustomError(escrow, "SaleEscrowUnknownSale").withArgs(2n);
    });

    it("counts every sale, whatever became of it", async function () {
      const ctx = await loadFixture(inEth);
      await fundedSale(ctx);
      const cancelled = await createSale(ctx);
      await ctx.escrow.connect(ctx.coopAdmin).cancel(cancelled);
      await shippedSale(ctx);
      expect(await ctx.escrow.saleCount()).to.equal(3n);
    });
  });

  describe("constants", function () {
    it("exposes the fee cap and the period bounds", async function () {
      const { escrow } = await loadFixture(deployPlatform);
      expect(await escrow.MAX_FEE_BPS()).to.equal(500n);
      expect(await escrow.MIN_PERIOD()).to.equal(MIN_PERIOD);
      expect(await escrow.MAX_PERIOD()).to.equal(MAX_PERIOD);
    });
  });

  describe("constructor", function () {
    async function deployArgs() {
      const { registry, batches, forwarder, feeRecipient } = await loadFixture(deployPlatform);
      return {
        registry: await registry.getAddress(),
        batches: await batches.getAddress(),
        forwarder: await forwarder.getAddress(),
        feeRecipient: feeRecipient.address,
      };
    }

    it("wires the registries, forwarder, fee recipient and fee", async function () {
      const a = await deployArgs();
      const factory = await ethers.getContractFactory("SaleEscrow");
      const escrow = await factory.deploy(a.registry, a.batches, a.forwarder, a.feeRecipient, 500);
      expect(await escrow.registry()).to.equal(a.registry);
      expect(await escrow.batches()).to.equal(a.batches);
      expect(await escrow.trustedForwarder()).to.equal(a.forwarder);
      expect(await escrow.feeRecipient()).to.equal(a.feeRecipient);
      expect(await escrow.feeBps()).to.equal(500n);
      expect(await escrow.saleCount()).to.equal(0n);
      expect(await escrow.paused()).to.equal(false);
    });

    for (const field of ["registry", "batches", "forwarder", "feeRecipient"] as const) {
      it(`reverts with SaleEscrowZeroAddress when ${field} is zero`, async function () {
        const a = { ...(await deployArgs()), [field]: ZeroAddress };
        const factory = await ethers.getContractFactory("SaleEscrow");
        await expect(
          factory.deploy(a.registry, a.batches, a.forwarder, a.feeRecipient, 100),
        ).to.be.revertedWithCustomError(factory, "SaleEscrowZeroAddress");
      });
    }

    it("reverts with SaleEscrowInvalidBps for a fee above 500 bps", async function () {
      const a = await deployArgs();
      const factory = await ethers.getContractFactory("SaleEscrow");
      await expect(factory.deploy(a.registry, a.batches, a.forwarder, a.feeRecipient, 501))
        .to.be.revertedWithCustomError(factory, "SaleEscrowInvalidBps")
        .withArgs(501, 500);
    });
  });

  describe("markShipped with an unknown sale", function () {
    it("reverts with SaleEscrowUnknownSale", async function () {
      const { escrow, coopAdmin } = await loadFixture(deployWithBatch);
      await expect(escrow.connect(coopAdmin).markShipped(1n, SHIPPING_DOC))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowUnknownSale")
        .withArgs(1n);
    });
  });
});
