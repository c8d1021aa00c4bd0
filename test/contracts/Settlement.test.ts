/**
 * SaleEscrow and money people read: settlement tokens with their currency, members who choose to be
 * paid in dirhams through their cooperative (the share then goes to its payout account), and a buyer
 * who funds a token sale in one signed transaction (EIP-2612 permit).
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { DAY, deployWithBatch, registerBatch } from "../helpers/fixtures";
import { shareOf } from "../../domain/split";
import type { DemoMoney } from "../../typechain-types";

const currency = (code: string) => ethers.hexlify(ethers.toUtf8Bytes(code));

async function withDirhams() {
  const platform = await deployWithBatch();
  const mad = await (await ethers.getContractFactory("DemoMoney")).deploy("Demo Dirham (test only)", "dMAD");
  await platform.escrow.connect(platform.deployer).setSettlementToken(mad, currency("MAD"));
  const payoutAccount = ethers.Wallet.createRandom().address;
  await platform.escrow.connect(platform.coopAdmin).setPayoutAccount(platform.cooperativeId, payoutAccount);
  return { ...platform, mad, payoutAccount };
}
type Ctx = Awaited<ReturnType<typeof withDirhams>>;

/** A sale of 1,000 units in dirhams, funded, shipped and released: returns the members' net released. */
async function releasedInDirhams(ctx: Ctx, price = 1_000_000n): Promise<bigint> {
  const { escrow, mad, coopAdmin, buyer, batchId } = ctx;
  await escrow.connect(coopAdmin).createSale(batchId, 1_000n, mad, price, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
  const saleId = await escrow.saleCount();
  await mad.mint(buyer.address, price);
  await mad.connect(buyer).approve(escrow, price);
  await escrow.connect(buyer).fund(saleId);
  await escrow.connect(coopAdmin).markShipped(saleId, ethers.ZeroHash);
  await escrow.connect(buyer).confirmDelivery(saleId);
  return escrow.released(batchId, mad);
}

async function permit(token: DemoMoney, owner: HardhatEthersSigner, spender: string, value: bigint, deadline: bigint) {
  const signature = await owner.signTypedData(
    {
      name: await token.name(),
      version: "1",
      chainId: (await ethers.provider.getNetwork()).chainId,
      verifyingContract: await token.getAddress(),
    },
    {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { owner: owner.address, spender, value, nonce: await token.nonces(owner.address), deadline },
  );
  return ethers.Signature.from(signature);
}

describe("SaleEscrow settlement in dirhams", function () {
  describe("setSettlementToken", function () {
    it("allows the token and records its currency and decimals", async function () {
      const { escrow, deployer } = await loadFixture(deployWithBatch);
      const eur = await (await ethers.getContractFactory("DemoMoney")).deploy("Demo Euro (test only)", "dEUR");
      await expect(escrow.connect(deployer).setSettlementToken(eur, currency("EUR")))
        .to.emit(escrow, "SettlementTokenSet")
        .withArgs(await eur.getAddress(), currency("EUR"), 2)
        .and.to.emit(escrow, "TokenAllowed")
        .withArgs(await eur.getAddress(), true);
      expect(await escrow.isTokenAllowed(eur)).to.equal(true);
      expect(await escrow.currencyOf(eur)).to.deep.equal([currency("EUR"), 2n]);
      expect(await escrow.currencyOf(ethers.ZeroAddress)).to.deep.equal([currency("ETH"), 18n]);
    });

    it("refuses a code that is not three capitals, the zero address and anyone but the platform admin", async function () {
      const { escrow, deployer, coopAdmin } = await loadFixture(deployWithBatch);
      const token = await (await ethers.getContractFactory("DemoMoney")).deploy("Demo", "D");
      for (const code of ["mad", "M4D", "MA "]) {
        await expect(escrow.connect(deployer).setSettlementToken(token, currency(code)))
          .to.be.revertedWithCustomError(escrow, "SaleEscrowInvalidCurrency")
          .withArgs(currency(code));
      }
      await expect(
        escrow.connect(deployer).setSettlementToken(ethers.ZeroAddress, currency("MAD")),
      ).to.be.revertedWithCustomError(escrow, "SaleEscrowZeroAddress");
      await expect(escrow.connect(coopAdmin).setSettlementToken(token, currency("MAD"))).to.be.revertedWithCustomError(
        escrow,
        "AccessControlUnauthorizedAccount",
      );
      expect(await escrow.isTokenAllowed(token)).to.equal(false);
      expect(await escrow.currencyOf(token)).to.deep.equal(["0x000000", 0n]);
    });
  });

  describe("claims read the escrow's copy of the batch", function () {
    it("before its first sale, a claim still checks the proof against the registry and finds nothing due", async function () {
      const { escrow, batches, mad, alice, bob, batchId, tree } = await loadFixture(withDirhams);
      await expect(escrow.claimFor(batchId, mad, tree.wordOf(alice.address), tree.proof(alice.address)))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowNothingDue")
        .withArgs(alice.address);
      await expect(escrow.claimFor(batchId, mad, tree.wordOf(alice.address), tree.proof(bob.address)))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowInvalidProof")
        .withArgs(batchId, tree.wordOf(alice.address));
      await expect(
        escrow.claimFor(ethers.id("no such batch"), mad, tree.wordOf(alice.address), tree.proof(alice.address)),
      ).to.be.revertedWithCustomError(batches, "BatchRegistryUnknownBatch");
    });

    it("neighbours by account index share a word and neither overwrites the other", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, mad, registry, alice, bob, carol, batchId, tree } = ctx;
      // alice, bob and carol hold indices 0, 1 and 2: alice and bob share a word, carol starts the next.
      expect([alice, bob, carol].map((m) => tree.wordOf(m.address) >> 64n)).to.deep.equal(
        await Promise.all([alice, bob, carol].map((m) => registry.indexOf(m.address))),
      );
      const net = await releasedInDirhams(ctx);
      const total = await totalWeight(ctx);
      const due = (m: HardhatEthersSigner) =>
        shareOf(net, tree.contributors.find((c) => c.account === m.address)!.weight, total);
      await escrow.claimFor(batchId, mad, tree.wordOf(bob.address), tree.proof(bob.address));
      expect(await escrow.claimed(batchId, mad, alice.address)).to.equal(0n);
      expect(await escrow.claimed(batchId, mad, bob.address)).to.equal(due(bob));
      await escrow.claimFor(batchId, mad, tree.wordOf(alice.address), tree.proof(alice.address));
      expect(await escrow.claimed(batchId, mad, alice.address)).to.equal(due(alice));
      expect(await escrow.claimed(batchId, mad, bob.address)).to.equal(due(bob));
      expect(await escrow.claimed(batchId, mad, carol.address)).to.equal(0n);
      expect(await mad.balanceOf(alice.address)).to.equal(due(alice));
      expect(await mad.balanceOf(bob.address)).to.equal(due(bob));
    });

    it("claimMany skips a batch of the same cooperative with no release in the token (either order)", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, batches, mad, alice, cooperativeId, batchId, tree } = ctx;
      const net = await releasedInDirhams(ctx);
      const due = shareOf(
        net,
        tree.contributors.find((c) => c.account === alice.address)!.weight,
        await totalWeight(ctx),
      );
      // A second lot of alice's, offered but never released.
      const other = await registerBatch(batches, alice, cooperativeId, [{ account: alice.address, weight: 7n }], {
        lotCode: "ROSE-OTHER-1",
      });
      const claimOf = (b: { batchId: string; tree: typeof tree }) => ({
        batchId: b.batchId,
        contributor: b.tree.wordOf(alice.address),
        proof: b.tree.proof(alice.address),
      });
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await expect(escrow.claimMany(mad, [claimOf(other), claimOf({ batchId, tree })])).to.changeTokenBalance(
        mad,
        alice,
        due,
      );
      await ethers.provider.send("evm_revert", [snapshot]);
      await expect(escrow.claimMany(mad, [claimOf({ batchId, tree }), claimOf(other)])).to.changeTokenBalance(
        mad,
        alice,
        due,
      );
      await expect(escrow.claimMany(mad, [claimOf(other)]))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowNothingDue")
        .withArgs(alice.address);
    });

    it("refuses a release that would take a batch's released total past 2^128 − 1; the arbiter can still refund it", async function () {
      const { escrow, mad, coopAdmin, buyer, arbiter, batchId } = await loadFixture(withDirhams);
      const max = 2n ** 128n - 1n;
      const shipped = async () => {
        await escrow.connect(coopAdmin).createSale(batchId, 1n, mad, max, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
        const saleId = await escrow.saleCount();
        await mad.mint(buyer.address, max);
        await mad.connect(buyer).approve(escrow, max);
        await escrow.connect(buyer).fund(saleId);
        await escrow.connect(coopAdmin).markShipped(saleId, ethers.ZeroHash);
        return saleId;
      };
      await escrow.connect(buyer).confirmDelivery(await shipped());
      const released = await escrow.released(batchId, mad);
      const second = await shipped();
      await expect(escrow.connect(buyer).confirmDelivery(second))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowReleasedOverflow")
        .withArgs(batchId, await mad.getAddress());
      expect(await escrow.released(batchId, mad)).to.equal(released);
      await escrow.connect(buyer).openDispute(second, ethers.id("never delivered"));
      await escrow.connect(arbiter).resolveDispute(second, 10_000, ethers.id("refund in full"));
      expect(await escrow.credited(mad, buyer.address)).to.equal(max);
    });
  });

  describe("payout through the cooperative", function () {
    it("only the cooperative's admin names its payout account, never zero", async function () {
      const { escrow, coopAdmin, alice, cooperativeId, payoutAccount } = await loadFixture(withDirhams);
      expect(await escrow.payoutAccountOf(cooperativeId)).to.equal(payoutAccount);
      await expect(escrow.connect(alice).setPayoutAccount(cooperativeId, alice.address))
        .to.be.revertedWithCustomError(escrow, "CooperativeRegistryNotCooperativeAdmin")
        .withArgs(cooperativeId, alice.address);
      await expect(
        escrow.connect(coopAdmin).setPayoutAccount(cooperativeId, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(escrow, "SaleEscrowZeroAddress");
      await expect(escrow.connect(coopAdmin).setPayoutAccount(cooperativeId, coopAdmin.address))
        .to.emit(escrow, "PayoutAccountSet")
        .withArgs(cooperativeId, coopAdmin.address);
    });

    it("a member chooses it herself; an outsider cannot, nor anyone before the cooperative has a payout account", async function () {
      const { escrow, alice, outsider, cooperativeId, registry, registrar, coopAdmin } = await loadFixture(withDirhams);
      await expect(escrow.connect(alice).setPaidThroughCooperative(cooperativeId, true))
        .to.emit(escrow, "PayoutRouteChosen")
        .withArgs(cooperativeId, alice.address, true);
      expect(await escrow.paidThroughCooperative(cooperativeId, alice.address)).to.equal(true);
      await expect(escrow.connect(outsider).setPaidThroughCooperative(cooperativeId, true))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowNotMember")
        .withArgs(cooperativeId, outsider.address);
      // A second cooperative without a payout account.
      await registry
        .connect(registrar)
        .registerCooperative("Dates of Zagora", "Zagora", "ODCO-ZAG-1", coopAdmin.address, 500, false);
      await registry.connect(coopAdmin).addMember(2n, alice.address, ethers.id("ref"));
      await expect(escrow.connect(alice).setPaidThroughCooperative(2n, true))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowNoPayoutAccount")
        .withArgs(2n);
      // Back to being paid herself: always possible.
      await escrow.connect(alice).setPaidThroughCooperative(cooperativeId, false);
      expect(await escrow.paidThroughCooperative(cooperativeId, alice.address)).to.equal(false);
    });

    it("is kept beside her account in the registry, one cooperative at a time; only the escrow writes it", async function () {
      const { escrow, alice, cooperativeId, registry, registrar, coopAdmin, outsider } = await loadFixture(withDirhams);
      const index = await registry.indexOf(alice.address);
      await escrow.connect(alice).setPaidThroughCooperative(cooperativeId, true);
      expect(await registry.payoutRouteOf(alice.address)).to.equal(cooperativeId);
      expect(await registry.payeeAt(index)).to.deep.equal([alice.address, cooperativeId]);
      expect(await registry.accountAt(index)).to.equal(alice.address);
      // A second cooperative with a payout account: choosing it ends the first choice, said by an event.
      await registry
        .connect(registrar)
        .registerCooperative("Dates of Zagora", "Zagora", "ODCO-ZAG-1", coopAdmin.address, 500, false);
      await registry.connect(coopAdmin).addMember(2n, alice.address, ethers.id("ref"));
      await escrow.connect(coopAdmin).setPayoutAccount(2n, coopAdmin.address);
      await expect(escrow.connect(alice).setPaidThroughCooperative(2n, true))
        .to.emit(escrow, "PayoutRouteChosen")
        .withArgs(cooperativeId, alice.address, false)
        .and.to.emit(escrow, "PayoutRouteChosen")
        .withArgs(2n, alice.address, true);
      expect(await escrow.paidThroughCooperative(cooperativeId, alice.address)).to.equal(false);
      expect(await escrow.paidThroughCooperative(2n, alice.address)).to.equal(true);
      // Declining a cooperative she is not paid through changes nothing.
      await escrow.connect(alice).setPaidThroughCooperative(cooperativeId, false);
      expect(await registry.payoutRouteOf(alice.address)).to.equal(2n);
      await escrow.connect(alice).setPaidThroughCooperative(2n, false);
      expect(await registry.payeeAt(index)).to.deep.equal([alice.address, 0n]);
      // Nobody but the escrow (it holds the drawer role) writes a route.
      await expect(registry.connect(alice).setPayoutRoute(alice.address, cooperativeId))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await registry.DRAWER_ROLE());
      expect(await registry.payoutRouteOf(outsider.address)).to.equal(0n);
      expect(await escrow.paidThroughCooperative(0n, outsider.address)).to.equal(false);
    });

    it("a member who chose it is paid into the cooperative's payout account; the others into their own", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, mad, alice, bob, outsider, batchId, tree, cooperativeId, payoutAccount } = ctx;
      await escrow.connect(alice).setPaidThroughCooperative(cooperativeId, true);
      const net = await releasedInDirhams(ctx);
      const [a, b] = [alice, bob].map((m) => tree.contributors.find((c) => c.account === m.address)!);
      const aliceDue = shareOf(net, a.weight, await totalWeight(ctx));
      const claimAlice = escrow
        .connect(outsider)
        .claimFor(batchId, mad, tree.wordOf(alice.address), tree.proof(alice.address));
      await expect(claimAlice)
        .to.emit(escrow, "Claimed")
        .withArgs(batchId, await mad.getAddress(), alice.address, aliceDue, a.weight)
        .and.to.emit(escrow, "ClaimRouted")
        .withArgs(batchId, alice.address, cooperativeId, payoutAccount, aliceDue);
      await expect(claimAlice).to.changeTokenBalances(mad, [payoutAccount, alice.address], [aliceDue, 0n]);
      const bobDue = shareOf(net, b.weight, await totalWeight(ctx));
      const claimBob = escrow.connect(bob).claim(batchId, mad, tree.wordOf(bob.address), tree.proof(bob.address));
      await expect(claimBob).to.changeTokenBalances(mad, [payoutAccount, bob.address], [0n, bobDue]);
      await expect(claimBob).not.to.emit(escrow, "ClaimRouted");
    });
  });

  describe("fundWithPermit", function () {
    it("funds a dirham sale in one transaction signed by the buyer", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, mad, coopAdmin, buyer, batchId } = ctx;
      const price = 250_000n;
      await escrow.connect(coopAdmin).createSale(batchId, 10n, mad, price, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
      await mad.mint(buyer.address, price);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const sig = await permit(mad, buyer, await escrow.getAddress(), price, deadline);
      const tx = escrow.connect(buyer).fundWithPermit(1n, deadline, sig.v, sig.r, sig.s);
      await expect(tx).to.emit(escrow, "SaleFunded");
      await expect(tx).to.changeTokenBalances(mad, [buyer, escrow], [-price, price]);
    });

    it("still funds when someone used the permit first, and refuses an ETH sale", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, mad, coopAdmin, buyer, outsider, batchId } = ctx;
      const price = 250_000n;
      await escrow.connect(coopAdmin).createSale(batchId, 10n, mad, price, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
      await mad.mint(buyer.address, price);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const sig = await permit(mad, buyer, await escrow.getAddress(), price, deadline);
      await mad.connect(outsider).permit(buyer.address, escrow, price, deadline, sig.v, sig.r, sig.s); // front-run
      await expect(escrow.connect(buyer).fundWithPermit(1n, deadline, sig.v, sig.r, sig.s)).to.emit(
        escrow,
        "SaleFunded",
      );
      await escrow
        .connect(coopAdmin)
        .createSale(batchId, 10n, ethers.ZeroAddress, 1n, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
      await expect(escrow.connect(buyer).fundWithPermit(2n, deadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowTokenNotAllowed")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("closeBatch", function () {
    /** Two dirham sales released at awkward prices (so rounding leaves something), one cancelled offer. */
    async function soldOut() {
      const ctx = await withDirhams();
      await releasedInDirhams(ctx, 999_997n);
      await releasedInDirhams(ctx, 333_331n);
      await ctx.escrow
        .connect(ctx.coopAdmin)
        .createSale(ctx.batchId, 5n, ctx.mad, 10n, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
      await ctx.escrow.connect(ctx.coopAdmin).cancel(3n);
      return ctx;
    }

    it("books what rounding left to the reserve, so the escrow ends with exactly what it owes", async function () {
      const ctx = await loadFixture(soldOut);
      const { escrow, mad, coopAdmin, outsider, batchId, tree, cooperativeId } = ctx;
      const released = await escrow.released(batchId, mad);
      const owed = tree.contributors.reduce((sum, c) => sum + shareOf(released, c.weight, tree.totalWeight), 0n);
      const leftover = released - owed;
      expect(leftover > 0n).to.equal(true);
      const reserveBefore = await escrow.reserveOf(cooperativeId, mad);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 2n, 3n], tree.words))
        .to.emit(escrow, "BatchClosed")
        .withArgs(batchId, cooperativeId, await mad.getAddress(), leftover);
      expect(await escrow.reserveOf(cooperativeId, mad)).to.equal(reserveBefore + leftover);
      expect(await escrow.roundedOff(batchId, mad)).to.equal(leftover);
      expect(await escrow.batchSales(batchId)).to.deep.equal([3n, true]);
      // Every member still claims her whole share; then the escrow holds the reserve and nothing else.
      for (const c of tree.contributors) {
        await escrow.connect(outsider).claimFor(batchId, mad, tree.wordOf(c.account), tree.proof(c.account));
      }
      const reserve = await escrow.reserveOf(cooperativeId, mad);
      const fees = await escrow.credited(mad, await escrow.feeRecipient());
      expect(await mad.balanceOf(escrow)).to.equal(reserve + fees);
      // No new sale of a closed batch; no second close.
      await expect(escrow.connect(coopAdmin).createSale(batchId, 1n, mad, 1n, ethers.ZeroAddress, 7 * DAY, 3 * DAY))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowBatchClosed")
        .withArgs(batchId);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 2n, 3n], tree.words))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowBatchClosed")
        .withArgs(batchId);
    });

    it("refuses anyone but the admin, a missing, repeated, foreign or open sale and a wrong contributor list, changing nothing", async function () {
      const ctx = await loadFixture(soldOut);
      const { escrow, mad, coopAdmin, alice, buyer, batchId, tree, cooperativeId } = ctx;
      await expect(escrow.connect(alice).closeBatch(batchId, [1n, 2n, 3n], tree.words))
        .to.be.revertedWithCustomError(escrow, "CooperativeRegistryNotCooperativeAdmin")
        .withArgs(cooperativeId, alice.address);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 2n], tree.words))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowIncompleteSales")
        .withArgs(batchId, 2n, 3n);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 1n, 2n], tree.words))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowOpenSale")
        .withArgs(batchId, 1n);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 2n, 3n], tree.words.slice(1)))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowWrongContributors")
        .withArgs(batchId);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 2n, 3n], [])).to.be.revertedWithCustomError(
        escrow,
        "SaleEscrowWrongContributors",
      );
      // A fourth sale, funded but not settled, keeps the batch open.
      await escrow.connect(coopAdmin).createSale(batchId, 5n, mad, 100n, ethers.ZeroAddress, 7 * DAY, 3 * DAY);
      await mad.mint(buyer.address, 100n);
      await mad.connect(buyer).approve(escrow, 100n);
      await escrow.connect(buyer).fund(4n);
      await expect(escrow.connect(coopAdmin).closeBatch(batchId, [1n, 2n, 3n, 4n], tree.words))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowOpenSale")
        .withArgs(batchId, 4n);
      expect(await escrow.batchSales(batchId)).to.deep.equal([4n, false]);
      expect(await escrow.roundedOff(batchId, mad)).to.equal(0n);
    });
  });

  describe("property: closing leaves nothing unowned", function () {
    it("after random releases, closing and every claim, the escrow holds exactly the fees and the reserve", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, mad, coopAdmin, outsider, batchId, tree, cooperativeId } = ctx;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.bigInt({ min: 1n, max: 10n ** 10n }), { minLength: 1, maxLength: 5 }),
          async (prices) => {
            const snapshot = await ethers.provider.send("evm_snapshot", []);
            try {
              for (const price of prices) await releasedInDirhams(ctx, price);
              const ids = Array.from({ length: prices.length }, (_, i) => BigInt(i + 1));
              await escrow.connect(coopAdmin).closeBatch(batchId, ids, tree.words);
              for (const c of tree.contributors) {
                if ((await escrow.claimable(batchId, mad, c.account, c.weight)) === 0n) continue;
                await escrow.connect(outsider).claimFor(batchId, mad, tree.wordOf(c.account), tree.proof(c.account));
              }
              const held =
                (await escrow.reserveOf(cooperativeId, mad)) +
                (await escrow.credited(mad, await escrow.feeRecipient()));
              expect(await mad.balanceOf(escrow)).to.equal(held);
              expect((await escrow.roundedOff(batchId, mad)) < BigInt(tree.contributors.length)).to.equal(true);
            } finally {
              await ethers.provider.send("evm_revert", [snapshot]);
            }
          },
        ),
        { numRuns: 20, seed: 20_261_205 },
      );
    });
  });

  describe("property: claims go to the cooperative only for members who chose it", function () {
    it("each member's claims add up to her exact share, split between her account and the cooperative's by her choice at each claim", async function () {
      const ctx = await loadFixture(withDirhams);
      const { escrow, mad, alice, bob, carol, outsider, batchId, tree, cooperativeId, payoutAccount } = ctx;
      const members = [alice, bob, carol];
      const W = await totalWeight(ctx);
      const op = fc.oneof(
        fc.record({ kind: fc.constant("choose" as const), m: fc.nat(2), through: fc.boolean() }),
        fc.record({ kind: fc.constant("release" as const), price: fc.bigInt({ min: 1n, max: 10n ** 12n }) }),
        fc.record({ kind: fc.constant("claim" as const), m: fc.nat(2) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
          const snapshot = await ethers.provider.send("evm_snapshot", []);
          try {
            const through = [false, false, false];
            const toCoop = [0n, 0n, 0n];
            const toSelf = [0n, 0n, 0n];
            const start = await Promise.all(members.map((m) => mad.balanceOf(m.address)));
            const coopStart = await mad.balanceOf(payoutAccount);
            for (const o of ops) {
              if (o.kind === "choose") {
                await escrow.connect(members[o.m]).setPaidThroughCooperative(cooperativeId, o.through);
                through[o.m] = o.through;
              } else if (o.kind === "release") {
                await releasedInDirhams(ctx, o.price);
              } else {
                const m = members[o.m];
                const c = tree.contributors.find((x) => x.account === m.address)!;
                const due =
                  shareOf(await escrow.released(batchId, mad), c.weight, W) -
                  (await escrow.claimed(batchId, mad, m.address));
                const tx = escrow
                  .connect(outsider)
                  .claimFor(batchId, mad, tree.wordOf(m.address), tree.proof(m.address));
                if (due === 0n) {
                  await expect(tx).to.be.revertedWithCustomError(escrow, "SaleEscrowNothingDue");
                  continue;
                }
                await tx;
                if (through[o.m]) toCoop[o.m] += due;
                else toSelf[o.m] += due;
              }
            }
            const released = await escrow.released(batchId, mad);
            for (const [i, m] of members.entries()) {
              const c = tree.contributors.find((x) => x.account === m.address)!;
              expect((await mad.balanceOf(m.address)) - start[i]).to.equal(toSelf[i]);
              // What she was paid, wherever it went, never exceeds her exact share of what was released.
              expect(toSelf[i] + toCoop[i]).to.equal(await escrow.claimed(batchId, mad, m.address));
              expect(toSelf[i] + toCoop[i] <= shareOf(released, c.weight, W)).to.equal(true);
            }
            expect((await mad.balanceOf(payoutAccount)) - coopStart).to.equal(toCoop[0] + toCoop[1] + toCoop[2]);
          } finally {
            await ethers.provider.send("evm_revert", [snapshot]);
          }
        }),
        { numRuns: 20, seed: 20_261_204 },
      );
    });
  });
});

async function totalWeight(ctx: Ctx): Promise<bigint> {
  return (await ctx.batches.getBatch(ctx.batchId)).totalWeight;
}
