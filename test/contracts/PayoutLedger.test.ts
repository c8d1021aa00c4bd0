/**
 * PayoutLedger: cooperatives record the dirhams they paid their members off-chain; each member
 * confirms or contests with her own signature. Plus a property run of random records, confirmations
 * and contests against a model, reconciled with domain/payouts.ts from the events alone.
 */
import { FORWARD_REQUEST_TYPES } from "../../server/relayer";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { TypedDataDomain } from "ethers";
import { deployPlatform } from "../helpers/fixtures";
import { PAYOUT_PURPOSES, PAYOUT_STATUSES, reconcile, type PayoutFact } from "../../domain/payouts";
import type { Forwarder, IPayoutLedger } from "../../typechain-types";

enum Status {
  None,
  Recorded,
  Confirmed,
  Contested,
}
enum Purpose {
  SaleShare,
  Advance,
  Instalment,
  Premium,
  WomensPremium,
  QualityPremium,
}
enum Method {
  Bank,
  MWallet,
  Cash,
}

const MAD = "0x" + "11".repeat(20);

/** A payout's id: keccak256(abi.encode(cooperativeId, member, referenceHash)). */
function idOf(cooperativeId: bigint, member: string, referenceHash: string): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["uint64", "address", "bytes32"], [cooperativeId, member, referenceHash]),
  );
}

function payout(member: string, overrides: Partial<IPayoutLedger.PayoutInputStruct> = {}) {
  return {
    member,
    token: MAD,
    tokenAmount: 125_000n, // 1,250.00 MAD in a 2-decimal token
    dirhams: 125_000n,
    rateE6: 0n,
    purpose: Purpose.SaleShare,
    method: Method.MWallet,
    referenceHash: ethers.id("mwallet:TX-0001"),
    ...overrides,
  } satisfies IPayoutLedger.PayoutInputStruct;
}

async function forwardedCall(
  forwarder: Forwarder,
  signer: HardhatEthersSigner,
  relayer: HardhatEthersSigner,
  to: string,
  data: string,
) {
  const domain: TypedDataDomain = {
    name: "CoopTraceForwarder",
    version: "1",
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await forwarder.getAddress(),
  };
  const request = {
    from: signer.address,
    to,
    value: 0n,
    gas: 300_000n,
    nonce: await forwarder.nonces(signer.address),
    deadline: BigInt(await time.latest()) + 3_600n,
    data,
  };
  const signature = await signer.signTypedData(domain, FORWARD_REQUEST_TYPES, request);
  const { nonce: _nonce, ...rest } = request;
  return forwarder.connect(relayer).execute({ ...rest, signature });
}

describe("PayoutLedger", function () {
  async function fixture() {
    return deployPlatform();
  }

  describe("recordPayouts", function () {
    it("records payouts by the cooperative's admin, one word each, amounts in the events, each payment once", async function () {
      const { payouts, coopAdmin, alice, bob, cooperativeId } = await loadFixture(fixture);
      const cash = payout(bob.address, {
        method: Method.Cash,
        dirhams: 50_000n,
        tokenAmount: 50_000n,
        referenceHash: ethers.id("receipt:0042"),
      });
      const tx = payouts.connect(coopAdmin).recordPayouts(cooperativeId, [payout(alice.address), cash]);
      const aliceId = idOf(cooperativeId, alice.address, ethers.id("mwallet:TX-0001"));
      const bobId = idOf(cooperativeId, bob.address, cash.referenceHash as string);
      expect(await payouts.payoutIdOf(cooperativeId, bob.address, cash.referenceHash)).to.equal(bobId);
      await expect(tx)
        .to.emit(payouts, "PayoutRecorded")
        .withArgs(
          aliceId,
          cooperativeId,
          alice.address,
          MAD,
          125_000n,
          125_000n,
          0n,
          Purpose.SaleShare,
          Method.MWallet,
          ethers.id("mwallet:TX-0001"),
        );
      await expect(tx)
        .to.emit(payouts, "PayoutRecorded")
        .withArgs(
          bobId,
          cooperativeId,
          bob.address,
          MAD,
          50_000n,
          50_000n,
          0n,
          Purpose.SaleShare,
          Method.Cash,
          cash.referenceHash,
        );
      const stored = await payouts.getPayout(bobId);
      expect([stored.member, stored.cooperativeId, stored.status]).to.deep.equal([
        bob.address,
        cooperativeId,
        BigInt(Status.Recorded),
      ]);
      // The same payment (same member and reference) is never recorded twice, even in one list.
      await expect(payouts.connect(coopAdmin).recordPayouts(cooperativeId, [payout(alice.address)]))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerDuplicate")
        .withArgs(aliceId);
      const twice = payout((await ethers.getSigners())[7].address, { referenceHash: ethers.id("bank:77") });
      await expect(
        payouts.connect(coopAdmin).recordPayouts(cooperativeId, [twice, twice]),
      ).to.be.revertedWithCustomError(payouts, "PayoutLedgerDuplicate");
    });

    it("refuses anyone but the cooperative's admin, an empty list and an invalid payout, changing nothing", async function () {
      const { payouts, coopAdmin, alice, outsider, cooperativeId } = await loadFixture(fixture);
      await expect(payouts.connect(alice).recordPayouts(cooperativeId, [payout(alice.address)]))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerNotCooperativeAdmin")
        .withArgs(cooperativeId, alice.address);
      await expect(payouts.connect(outsider).recordPayouts(99n, [payout(alice.address)]))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerNotCooperativeAdmin")
        .withArgs(99n, outsider.address);
      await expect(payouts.connect(coopAdmin).recordPayouts(cooperativeId, [])).to.be.revertedWithCustomError(
        payouts,
        "PayoutLedgerEmpty",
      );
      await expect(
        payouts.connect(coopAdmin).recordPayouts(cooperativeId, [payout(alice.address), payout(ethers.ZeroAddress)]),
      )
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidPayout")
        .withArgs(1n);
      await expect(payouts.connect(coopAdmin).recordPayouts(cooperativeId, [payout(alice.address, { dirhams: 0n })]))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidPayout")
        .withArgs(0n);
      const unknown = idOf(cooperativeId, alice.address, ethers.id("mwallet:TX-0001"));
      await expect(payouts.getPayout(unknown))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerUnknownPayout")
        .withArgs(unknown);
    });
  });

  describe("confirm and contest", function () {
    async function recorded() {
      const platform = await deployPlatform();
      const { payouts, coopAdmin, cooperativeId, alice, bob } = platform;
      await payouts.connect(coopAdmin).recordPayouts(cooperativeId, [payout(alice.address), payout(bob.address)]);
      const ref = ethers.id("mwallet:TX-0001");
      return {
        ...platform,
        first: idOf(cooperativeId, alice.address, ref),
        second: idOf(cooperativeId, bob.address, ref),
      };
    }

    it("only the member named confirms, once", async function () {
      const { payouts, alice, bob, coopAdmin, first } = await loadFixture(recorded);
      for (const other of [bob, coopAdmin]) {
        await expect(payouts.connect(other).confirm(first))
          .to.be.revertedWithCustomError(payouts, "PayoutLedgerNotPayee")
          .withArgs(first, other.address);
      }
      await expect(payouts.connect(alice).confirm(first))
        .to.emit(payouts, "PayoutConfirmed")
        .withArgs(first, alice.address);
      expect((await payouts.getPayout(first)).status).to.equal(BigInt(Status.Confirmed));
      await expect(payouts.connect(alice).confirm(first))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidStatus")
        .withArgs(first, Status.Confirmed);
      await expect(payouts.connect(alice).contest(first, ethers.ZeroHash))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidStatus")
        .withArgs(first, Status.Confirmed);
      await expect(payouts.connect(alice).confirm(ethers.ZeroHash)).to.be.revertedWithCustomError(
        payouts,
        "PayoutLedgerUnknownPayout",
      );
    });

    it("a contested payout stays contested until she confirms it; she cannot contest twice", async function () {
      const { payouts, bob, second } = await loadFixture(recorded);
      const reason = ethers.id("reason:not-received");
      await expect(payouts.connect(bob).contest(second, reason))
        .to.emit(payouts, "PayoutContested")
        .withArgs(second, bob.address, reason);
      await expect(payouts.connect(bob).contest(second, reason))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidStatus")
        .withArgs(second, Status.Contested);
      expect((await payouts.getPayout(second)).status).to.equal(BigInt(Status.Contested));
      await expect(payouts.connect(bob).confirm(second))
        .to.emit(payouts, "PayoutConfirmed")
        .withArgs(second, bob.address);
    });

    it("a member without gas confirms through the forwarder with her own signature; a relayer cannot confirm for her", async function () {
      const { payouts, forwarder, alice, outsider, first, second } = await loadFixture(recorded);
      const data = payouts.interface.encodeFunctionData("confirm", [first]);
      await expect(forwardedCall(forwarder, alice, outsider, await payouts.getAddress(), data))
        .to.emit(payouts, "PayoutConfirmed")
        .withArgs(first, alice.address);
      // The relayer signing its own request is not the member.
      const other = payouts.interface.encodeFunctionData("confirm", [second]);
      await expect(forwardedCall(forwarder, outsider, outsider, await payouts.getAddress(), other)).to.be.reverted;
      expect((await payouts.getPayout(second)).status).to.equal(BigInt(Status.Recorded));
    });
  });

  describe("setReferenceRate", function () {
    it("records a reference rate by the platform admin only, with a currency, a rate, a date and a source", async function () {
      const { payouts, deployer, coopAdmin } = await loadFixture(fixture);
      const eur = ethers.hexlify(ethers.toUtf8Bytes("EUR"));
      await expect(payouts.connect(deployer).setReferenceRate(eur, 10_850_000n, 1_764_806_400n, "Bank Al-Maghrib"))
        .to.emit(payouts, "ReferenceRateSet")
        .withArgs(eur, 10_850_000n, 1_764_806_400n, "Bank Al-Maghrib");
      await expect(payouts.connect(coopAdmin).setReferenceRate(eur, 10_850_000n, 1n, "x"))
        .to.be.revertedWithCustomError(payouts, "PayoutLedgerNotPlatformAdmin")
        .withArgs(coopAdmin.address);
      for (const [currency, rate, asOf, source] of [
        [ethers.hexlify(ethers.toUtf8Bytes("eur")), 1n, 1n, "BAM"],
        [eur, 0n, 1n, "BAM"],
        [eur, 1n, 0n, "BAM"],
        [eur, 1n, 1n, ""],
        [eur, 1n, 1n, "x".repeat(65)],
      ] as const) {
        await expect(
          payouts.connect(deployer).setReferenceRate(currency, rate, asOf, source),
        ).to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidRate");
      }
    });
  });

  describe("property: random records, confirmations and contests", function () {
    it("only the payee changes a payout, a confirmation is final, and the events reconcile to the model", async function () {
      const platform = await loadFixture(fixture);
      const { payouts, coopAdmin, alice, bob, carol, outsider, cooperativeId } = platform;
      const members = [alice, bob, carol];
      const actors = [alice, bob, carol, outsider, coopAdmin];
      const op = fc.oneof(
        fc.record({
          kind: fc.constant("record" as const),
          member: fc.nat(members.length - 1),
          amount: fc.bigInt({ min: 1n, max: 10n ** 9n }),
          purpose: fc.nat(PAYOUT_PURPOSES.length - 1),
          byAdmin: fc.boolean(),
        }),
        fc.record({
          kind: fc.constantFrom("confirm" as const, "contest" as const),
          id: fc.nat(12),
          actor: fc.nat(actors.length - 1),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
          const snapshot = await ethers.provider.send("evm_snapshot", []);
          try {
            const model: PayoutFact[] = [];
            const ids: string[] = [];
            for (const o of ops) {
              if (o.kind === "record") {
                const signer = o.byAdmin ? coopAdmin : outsider;
                const input = payout(members[o.member].address, {
                  tokenAmount: o.amount,
                  dirhams: o.amount,
                  purpose: o.purpose,
                  referenceHash: ethers.id(`ref:${ids.length}`),
                });
                const tx = payouts.connect(signer).recordPayouts(cooperativeId, [input]);
                if (o.byAdmin) {
                  await tx;
                  ids.push(idOf(cooperativeId, members[o.member].address, ethers.id(`ref:${ids.length}`)));
                  model.push({
                    member: members[o.member].address,
                    token: MAD,
                    tokenAmount: o.amount,
                    dirhams: o.amount,
                    purpose: PAYOUT_PURPOSES[o.purpose],
                    status: "recorded",
                  });
                } else await expect(tx).to.be.revertedWithCustomError(payouts, "PayoutLedgerNotCooperativeAdmin");
                continue;
              }
              const actor = actors[o.actor];
              const target = model[o.id];
              const id = ids[o.id] ?? ethers.id(`unknown:${o.id}`);
              const tx =
                o.kind === "confirm"
                  ? payouts.connect(actor).confirm(id)
                  : payouts.connect(actor).contest(id, ethers.ZeroHash);
              if (target === undefined) {
                await expect(tx).to.be.revertedWithCustomError(payouts, "PayoutLedgerUnknownPayout");
              } else if (actor.address !== target.member) {
                await expect(tx).to.be.revertedWithCustomError(payouts, "PayoutLedgerNotPayee");
              } else if (target.status === "confirmed" || (o.kind === "contest" && target.status === "contested")) {
                await expect(tx).to.be.revertedWithCustomError(payouts, "PayoutLedgerInvalidStatus");
              } else {
                await tx;
                target.status = o.kind === "confirm" ? "confirmed" : "contested";
              }
            }
            // The chain's stored statuses and the events, reconciled, equal the model.
            for (const [i, p] of model.entries()) {
              expect(PAYOUT_STATUSES[Number((await payouts.getPayout(ids[i])).status)]).to.equal(p.status);
            }
            const facts = await chainFacts(payouts);
            expect(reconcile([], facts)).to.deep.equal(reconcile([], model));
          } finally {
            await ethers.provider.send("evm_revert", [snapshot]);
          }
        }),
        { numRuns: 25, seed: 20_261_204 },
      );
    });
  });
});

/** Every payout as the events alone tell it (what the index and the verifier read). */
async function chainFacts(payouts: Awaited<ReturnType<typeof deployPlatform>>["payouts"]): Promise<PayoutFact[]> {
  const facts = new Map<string, PayoutFact>();
  for (const e of await payouts.queryFilter(payouts.filters.PayoutRecorded())) {
    facts.set(e.args.payoutId, {
      member: e.args.member,
      token: e.args.token,
      tokenAmount: e.args.tokenAmount,
      dirhams: e.args.dirhams,
      purpose: PAYOUT_PURPOSES[Number(e.args.purpose)],
      status: "recorded",
    });
  }
  const changes = [
    ...(await payouts.queryFilter(payouts.filters.PayoutConfirmed())).map((e) => ({ e, status: "confirmed" as const })),
    ...(await payouts.queryFilter(payouts.filters.PayoutContested())).map((e) => ({ e, status: "contested" as const })),
  ].sort((a, b) => a.e.blockNumber - b.e.blockNumber || a.e.index - b.e.index);
  for (const { e, status } of changes) facts.get(e.args.payoutId)!.status = status;
  return [...facts.values()];
}
