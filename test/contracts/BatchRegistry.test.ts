import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { impersonateAccount, loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { mergeContributors, packContributor, type Contributor } from "../../domain/contributors";
import { batchIdOf as domainBatchIdOf } from "../../domain/batchId";
import {
  DAY,
  batchInfo,
  deployWithBatch,
  referenceHash,
  registerBatch,
  treeOf,
  text,
  word,
  type BatchInfoText,
} from "../helpers/fixtures";
import type { BatchRegistry, IBatchRegistry } from "../../typechain-types";

const MAX_CONTRIBUTORS = 10_000n;
const COVERAGE = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const MAX_CHILDREN = 50n;
const MAX_PARENTS = 20n;
const PARENT_QUANTITY = 1_000_000n;
const MAX_UINT64 = 2n ** 64n - 1n;
const BIZ_STEP = "urn:epcglobal:cbv:bizstep:packing";
const UNKNOWN_BATCH = ethers.id("no such batch");

/**
 * The platform with the fixture's harvest batch (alice 500k, bob 300k, carol 200k in cooperative 1),
 * a test signer holding DRAWER_ROLE, a second certifier, and a second cooperative of which alice is
 * also a member (with erin), holding an almond batch contributed by alice and erin.
 */
async function fixture() {
  const base = await deployWithBatch();
  const { registry, batches, deployer, registrar, alice } = base;
  const signers = await ethers.getSigners();
  const [drawer, coop2Admin, erin, certifier2] = signers.slice(12, 16);
  await registry.connect(deployer).grantRole(await registry.DRAWER_ROLE(), drawer.address);
  await registry.connect(deployer).grantRole(await registry.CERTIFIER_ROLE(), certifier2.address);
  await registry
    .connect(registrar)
    .registerCooperative("Cooperative Dades Almonds", "Tinghir", "ODCO-DDS-2020-0007", coop2Admin.address, 500n, false);
  const coop2Id = 2n;
  await registry.connect(coop2Admin).addMember(coop2Id, alice.address, referenceHash("coop2-alice"));
  await registry.connect(coop2Admin).addMember(coop2Id, erin.address, referenceHash("coop2-erin"));
  const almonds = await registerBatch(
    batches,
    alice,
    coop2Id,
    [
      { account: alice.address, weight: 100_000n },
      { account: erin.address, weight: 300_000n },
    ],
    { productCode: "almonds", lotCode: "ALM-2026-001", quantity: 400_000n, origin: "Dades valley" },
  );
  return {
    ...base,
    drawer,
    coop2Admin,
    erin,
    certifier2,
    coop2Id,
    almonds,
    certifierRole: await registry.CERTIFIER_ROLE(),
  };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/**
 * The off-chain batch id: keccak256(abi.encode(uint64 cooperativeId, bytes32 lotCode)), the lot code
 * (text, or already a word) as its padded word.
 */
function offChainBatchId(cooperativeId: bigint, lotCode: string): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["uint64", "bytes32"], [cooperativeId, word(lotCode)]),
  );
}

/** A BatchInfo as the positional array that `withArgs` compares an emitted struct with. */
function infoArgs(info: IBatchRegistry.BatchInfoStruct): unknown[] {
  return [
    info.productCode,
    BigInt(info.gtin),
    info.lotCode,
    BigInt(info.quantity),
    info.unit,
    info.origin,
    BigInt(info.productionDate),
    info.metadataHash,
  ];
}

/** Random addresses (deterministic: derived from a counter). */
let randomSeed = 0;
function randomAddresses(n: number): string[] {
  return Array.from({ length: n }, () => ethers.getAddress(ethers.dataSlice(ethers.id(`account-${randomSeed++}`), 12)));
}

async function addMembers(f: Fixture, admin: HardhatEthersSigner, cooperativeId: bigint, accounts: string[]) {
  for (const [i, a] of accounts.entries()) {
    await f.registry.connect(admin).addMember(cooperativeId, a, referenceHash(`extra-${i}`));
  }
}

/** Every stored field of the given batches (null for ids that do not exist) and the certifications 1..10. */
async function state(batches: BatchRegistry, ids: string[]) {
  const out: { batches: unknown[]; certifications: unknown[] } = { batches: [], certifications: [] };
  for (const id of ids) {
    out.batches.push((await batches.exists(id)) ? [...(await batches.getBatch(id))] : null);
  }
  for (let c = 1n; c <= 10n; c++) {
    out.certifications.push((await certificationExists(batches, c)) ? [...(await batches.getCertification(c))] : null);
  }
  return out;
}

async function certificationExists(batches: BatchRegistry, id: bigint): Promise<boolean> {
  try {
    await batches.getCertification(id);
    return true;
  } catch {
    return false;
  }
}

/** Runs `action` (which must assert a revert) and checks that the batches in `ids` and the certifications did not change. */
async function expectUnchanged(f: Fixture, ids: string[], action: () => Promise<void>) {
  const all = [f.batchId, f.almonds.batchId, ...ids];
  const before = await state(f.batches, all);
  await action();
  expect(await state(f.batches, all)).to.deep.equal(before);
}

/** A child lot; `lotCode` is text (or a word), sent as its padded word. */
function child(lotCode: string, quantity: bigint): IBatchRegistry.ChildLotStruct {
  return { lotCode: word(lotCode), quantity, metadataHash: ethers.id(`metadata:${lotCode}`) };
}

/** The contributors of the fixture's merge: 250,000 of the rose batch and 100,000 of the almond batch. */
function mergeList(f: Fixture, roseDraw = 250_000n, almondDraw = 100_000n): Contributor[] {
  return mergeContributors([
    { contributors: f.tree.contributors, totalWeight: f.tree.totalWeight, drawn: roseDraw },
    { contributors: f.almonds.tree.contributors, totalWeight: f.almonds.tree.totalWeight, drawn: almondDraw },
  ]);
}

describe("BatchRegistry", function () {
  describe("deployment", function () {
    it("exposes its limits and its registry", async function () {
      const { batches, registry, forwarder } = await loadFixture(fixture);
      expect(await batches.MAX_CONTRIBUTORS()).to.equal(MAX_CONTRIBUTORS);
      expect(await batches.MAX_CHILDREN()).to.equal(MAX_CHILDREN);
      expect(await batches.MAX_PARENTS()).to.equal(MAX_PARENTS);
      expect(await batches.registry()).to.equal(await registry.getAddress());
      expect(await batches.isTrustedForwarder(await forwarder.getAddress())).to.equal(true);
    });

    context("when the registry or the forwarder is the zero address", function () {
      it("reverts with CooperativeRegistryZeroAddress", async function () {
        const { registry, forwarder } = await loadFixture(fixture);
        const factory = await ethers.getContractFactory("BatchRegistry");
        await expect(factory.deploy(ethers.ZeroAddress, await forwarder.getAddress())).to.be.revertedWithCustomError(
          registry,
          "CooperativeRegistryZeroAddress",
        );
        await expect(factory.deploy(await registry.getAddress(), ethers.ZeroAddress)).to.be.revertedWithCustomError(
          registry,
          "CooperativeRegistryZeroAddress",
        );
      });
    });
  });

  describe("batchIdOf", function () {
    it("is keccak256(abi.encode(uint64 cooperativeId, bytes32 lotCode)), the lot code as its padded word", async function () {
      const { batches } = await loadFixture(fixture);
      for (const [coop, lot] of [
        [1n, "ROSE-2026-001"],
        [2n, "ROSE-2026-001"],
        [MAX_UINT64, "L"],
        [7n, "تمر-٢٠٢٦"],
        [3n, "L".repeat(20)],
      ] as const) {
        expect(await batches.batchIdOf(coop, word(lot))).to.equal(offChainBatchId(coop, lot));
        expect(await batches.batchIdOf(coop, word(lot))).to.equal(domainBatchIdOf(coop, lot));
      }
      expect(await batches.batchIdOf(1n, word("A"))).to.not.equal(await batches.batchIdOf(2n, word("A")));
    });
  });

  describe("registerBatch", function () {
    context("when a member registers a valid batch", function () {
      it("returns batchIdOf(cooperative, lot) and emits BatchRegistered with the full contributor list", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-2026-002", gtin: 6_111_234_567_890n, quantity: 42_000n });
        const tree = await treeOf(f.batches, [
          { account: f.dave.address, weight: 7n },
          { account: f.bob.address, weight: 35n },
        ]);
        const expectedId = offChainBatchId(f.cooperativeId, "ROSE-2026-002");
        expect(await f.batches.batchIdOf(f.cooperativeId, word("ROSE-2026-002"))).to.equal(expectedId);
        expect(await f.batches.connect(f.bob).registerBatch.staticCall(f.cooperativeId, info, tree.words)).to.equal(
          expectedId,
        );
        await expect(f.batches.connect(f.bob).registerBatch(f.cooperativeId, info, tree.words))
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(expectedId, f.cooperativeId, f.bob.address, infoArgs(info), tree.words, tree.root, 42n);
        expect(await f.batches.exists(expectedId)).to.equal(true);
      });

      it("stores the cooperative, quantity, nothing drawn, the total weight and the Merkle root", async function () {
        const { batches, batchId, tree, cooperativeId } = await loadFixture(fixture);
        const batch = await batches.getBatch(batchId);
        expect(batch.cooperativeId).to.equal(cooperativeId);
        expect(batch.quantity).to.equal(PARENT_QUANTITY);
        expect(batch.drawn).to.equal(0n);
        expect(batch.totalWeight).to.equal(1_000_000n);
        expect(batch.totalWeight).to.equal(tree.totalWeight);
        expect(batch.contributorsRoot).to.equal(tree.root);
        const standard = SimpleMerkleTree.of(
          tree.words.map((w) => ethers.keccak256(ethers.toBeHex(w, 32))),
          { sortLeaves: false },
        );
        expect(batch.contributorsRoot).to.equal(standard.root);
      });

      it("lets the cooperative admin (not a member) register", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-ADMIN" });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        const id = offChainBatchId(f.cooperativeId, "ROSE-ADMIN");
        await expect(f.batches.connect(f.coopAdmin).registerBatch(f.cooperativeId, info, tree.words))
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(id, f.cooperativeId, f.coopAdmin.address, infoArgs(info), tree.words, tree.root, 1n);
        expect([...(await f.batches.getBatch(id))]).to.deep.equal([
          f.cooperativeId,
          PARENT_QUANTITY,
          0n,
          1n,
          tree.root,
        ]);
      });

      it("accepts the same lot code in another cooperative, as another batch", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-2026-001" });
        const tree = await treeOf(f.batches, [{ account: f.erin.address, weight: 5n }]);
        await f.batches.connect(f.erin).registerBatch(f.coop2Id, info, tree.words);
        const id2 = offChainBatchId(f.coop2Id, "ROSE-2026-001");
        expect(id2).to.not.equal(f.batchId);
        expect((await f.batches.getBatch(id2)).cooperativeId).to.equal(f.coop2Id);
        expect((await f.batches.getBatch(f.batchId)).cooperativeId).to.equal(f.cooperativeId);
      });

      it("accepts a 20-byte lot code and a production date equal to the block time", async function () {
        const f = await loadFixture(fixture);
        const now = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(now);
        const info = await batchInfo({ lotCode: "L".repeat(20), productionDate: now });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(
            offChainBatchId(f.cooperativeId, "L".repeat(20)),
            f.cooperativeId,
            f.alice.address,
            infoArgs(info),
            anyValue,
            tree.root,
            1n,
          );
      });

      it("accepts a product code and a unit of 32 bytes (a whole word: no shorter limit)", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-WORD", productCode: "p".repeat(32), unit: "ت".repeat(16) });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        const tx = f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words);
        await expect(tx)
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(
            offChainBatchId(f.cooperativeId, "ROSE-WORD"),
            f.cooperativeId,
            f.alice.address,
            infoArgs(info),
            tree.words,
            tree.root,
            1n,
          );
        const log = (await (await tx).wait())!.logs.map((l) => f.batches.interface.parseLog(l)!)[0];
        expect(text(log.args.info.productCode)).to.equal("p".repeat(32));
        expect(text(log.args.info.lotCode)).to.equal("ROSE-WORD");
        expect(text(log.args.info.unit)).to.equal("ت".repeat(16));
      });

      it("accepts the weights summing to exactly 2^64-1", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-MAXW" });
        const tree = await treeOf(f.batches, [
          { account: f.alice.address, weight: 2n ** 63n },
          { account: f.bob.address, weight: 2n ** 63n - 1n },
        ]);
        await f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words);
        const batch = await f.batches.getBatch(offChainBatchId(f.cooperativeId, "ROSE-MAXW"));
        expect(batch.totalWeight).to.equal(MAX_UINT64);
        expect(batch.contributorsRoot).to.equal(tree.root);
      });
    });

    context("when relayed by the trusted forwarder", function () {
      it("records the member appended to the call data as registeredBy", async function () {
        const f = await loadFixture(fixture);
        const fwd = await f.forwarder.getAddress();
        await impersonateAccount(fwd);
        await setBalance(fwd, 10n ** 18n);
        const info = await batchInfo({ lotCode: "ROSE-RELAY" });
        const tree = await treeOf(f.batches, [{ account: f.bob.address, weight: 3n }]);
        const data = f.batches.interface.encodeFunctionData("registerBatch", [f.cooperativeId, info, tree.words]);
        await expect(
          (await ethers.getSigner(fwd)).sendTransaction({
            to: await f.batches.getAddress(),
            data: ethers.concat([data, f.alice.address]),
          }),
        )
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(
            offChainBatchId(f.cooperativeId, "ROSE-RELAY"),
            f.cooperativeId,
            f.alice.address,
            anyValue,
            anyValue,
            tree.root,
            3n,
          );
      });

      it("ignores an appended address when the sender is not the trusted forwarder", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-FAKE" });
        const tree = await treeOf(f.batches, [{ account: f.bob.address, weight: 3n }]);
        const data = f.batches.interface.encodeFunctionData("registerBatch", [f.cooperativeId, info, tree.words]);
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-FAKE")], async () => {
          await expect(
            f.outsider.sendTransaction({
              to: await f.batches.getAddress(),
              data: ethers.concat([data, f.alice.address]),
            }),
          )
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
            .withArgs(f.cooperativeId, f.outsider.address);
        });
      });
    });

    context("when the caller may not act for the cooperative", function () {
      for (const who of ["outsider", "erin", "coop2Admin", "registrar", "certifier"] as const) {
        it(`reverts with BatchRegistryNotAuthorized for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          const info = await batchInfo({ lotCode: "ROSE-X" });
          const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
          await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
            await expect(f.batches.connect(f[who]).registerBatch(f.cooperativeId, info, tree.words))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }

      it("reverts for a member who was removed", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.dave.address);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.dave).registerBatch(f.cooperativeId, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
            .withArgs(f.cooperativeId, f.dave.address);
        });
      });

      it("checks the input before the actor: an outsider sending a zero quantity gets BatchRegistryZeroQuantity", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X", quantity: 0n });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expect(
          f.batches.connect(f.outsider).registerBatch(f.cooperativeId, info, tree.words),
        ).to.be.revertedWithCustomError(f.batches, "BatchRegistryZeroQuantity");
      });

      it("checks the actor before the contributors' membership (one registry call)", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const tree = await treeOf(f.batches, [
          { account: f.alice.address, weight: 1n },
          { account: f.erin.address, weight: 1n },
        ]);
        await expect(f.batches.connect(f.outsider).registerBatch(f.cooperativeId, info, tree.words))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
          .withArgs(f.cooperativeId, f.outsider.address);
      });
    });

    context("when the cooperative is unknown", function () {
      it("reverts with the registry's CooperativeRegistryUnknownCooperative", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expectUnchanged(f, [offChainBatchId(99n, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(99n, info, tree.words))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryUnknownCooperative")
            .withArgs(99n);
        });
      });
    });

    context("when the quantity is zero", function () {
      it("reverts with BatchRegistryZeroQuantity", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X", quantity: 0n });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(
            f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words),
          ).to.be.revertedWithCustomError(f.batches, "BatchRegistryZeroQuantity");
        });
      });
    });

    context("when the lot code is already used in the cooperative", function () {
      it("reverts with BatchRegistryDuplicateLot", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ quantity: 5n, productCode: "other" });
        const tree = await treeOf(f.batches, [{ account: f.dave.address, weight: 1n }]);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.dave).registerBatch(f.cooperativeId, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryDuplicateLot")
            .withArgs(f.cooperativeId, info.lotCode);
        });
      });
    });

    for (const [what, lotCode] of [
      ["the zero word (empty)", ""],
      ["21 bytes (a byte in the word's last 12)", "L".repeat(21)],
      ["11 characters but 21 bytes", "ت".repeat(10) + "L"],
      ["32 bytes (the whole word)", "L".repeat(32)],
      ["one byte then a byte only in the word's last 12", "0x41" + "00".repeat(30) + "01"],
    ] as const) {
      context(`when the lot code is ${what}: a lot code must be non-zero with its last 12 bytes zero`, function () {
        it('reverts with BatchRegistryInvalidText("lotCode")', async function () {
          const f = await loadFixture(fixture);
          const info = await batchInfo({ lotCode });
          const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
          await expectUnchanged(f, [offChainBatchId(f.cooperativeId, lotCode)], async () => {
            await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidText")
              .withArgs("lotCode");
          });
        });
      });
    }

    for (const field of ["productCode", "unit"] as const) {
      context(`when the ${field} is the zero word (empty text): it must be non-zero`, function () {
        it(`reverts with BatchRegistryInvalidText("${field}")`, async function () {
          const f = await loadFixture(fixture);
          const info = await batchInfo({ lotCode: "ROSE-X", [field]: "" });
          const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
          await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
            await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidText")
              .withArgs(field);
          });
        });
      });
    }

    context("when the production date is zero", function () {
      it("reverts with BatchRegistryInvalidTime(0)", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X", productionDate: 0n });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidTime")
            .withArgs(0n);
        });
      });
    });

    context("when the production date is in the future", function () {
      it("reverts with BatchRegistryInvalidTime", async function () {
        const f = await loadFixture(fixture);
        const now = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(now);
        const info = await batchInfo({ lotCode: "ROSE-X", productionDate: now + 1n });
        const tree = await treeOf(f.batches, [{ account: f.alice.address, weight: 1n }]);
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidTime")
            .withArgs(now + 1n);
        });
      });
    });

    context("when there are no contributors", function () {
      it("reverts with BatchRegistryInvalidContributorCount(0, 10000)", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, []))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidContributorCount")
            .withArgs(0n, MAX_CONTRIBUTORS);
        });
      });
    });

    context("when there are more than MAX_CONTRIBUTORS contributors", function () {
      it("reverts with BatchRegistryInvalidContributorCount(10001, 10000)", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const list = Array.from({ length: 10_001 }, (_, i) => packContributor(i, 1n));
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidContributorCount")
            .withArgs(10_001n, MAX_CONTRIBUTORS);
        });
      });
    });

    context("when there are exactly MAX_CONTRIBUTORS (10,000) contributors", function () {
      it("registers them in one transaction under 2^24 gas and commits to the simple Merkle root", async function () {
        this.timeout(600_000);
        // Under solidity-coverage the instrumented trace of a 10,000-entry registration exhausts the
        // heap: there the same path runs with 1,000 (same lines and branches); `npm test` runs 10,000.
        const n = COVERAGE ? 1_000 : 10_000;
        const f = await loadFixture(fixture);
        const accounts = randomAddresses(n);
        await addMembers(f, f.coopAdmin, f.cooperativeId, accounts);
        const tree = await treeOf(
          f.batches,
          accounts.map((account, i) => ({ account, weight: BigInt(i + 1) })),
        );
        const info = await batchInfo({ lotCode: "ROSE-BIG" });
        const tx = await f.batches
          .connect(f.alice)
          .registerBatch(f.cooperativeId, info, tree.words, { gasLimit: 2n ** 24n });
        const receipt = await tx.wait();
        expect(receipt!.status).to.equal(1);
        expect(receipt!.gasUsed).to.be.lessThan(2n ** 24n);
        const batch = await f.batches.getBatch(offChainBatchId(f.cooperativeId, "ROSE-BIG"));
        expect(batch.contributorsRoot).to.equal(tree.root);
        expect(batch.totalWeight).to.equal((BigInt(n) * BigInt(n + 1)) / 2n);
      });
    });

    context("when a contributor has weight zero", function () {
      it("reverts with BatchRegistryZeroWeight naming its position", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const list = [packContributor(0, 1n), packContributor(1, 1n), packContributor(2, 0n)];
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryZeroWeight")
            .withArgs(2n);
        });
      });
    });

    context("when a contributor word carries bits above the index", function () {
      for (const bit of [96n, 200n, 255n]) {
        it(`reverts with BatchRegistryInvalidContributor for bit ${bit}`, async function () {
          const f = await loadFixture(fixture);
          const info = await batchInfo({ lotCode: "ROSE-DIRTY" });
          const list = [packContributor(0, 1n), packContributor(1, 2n) | (1n << bit), packContributor(2, 3n)];
          await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-DIRTY")], async () => {
            await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidContributor")
              .withArgs(1n);
          });
        });
      }
    });

    context("when the contributors are not in ascending index order", function () {
      it("reverts with BatchRegistryContributorsNotSorted naming the first out-of-order position", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const list = [packContributor(0, 1n), packContributor(2, 3n), packContributor(1, 2n), packContributor(3, 1n)];
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryContributorsNotSorted")
            .withArgs(2n);
        });
      });

      it("reverts with BatchRegistryContributorsNotSorted at the first entry above the last one's index", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        // 0, 1000 (above the last, 2), 1, 2: caught at position 1 rather than 2.
        const list = [0, 1000, 1, 2].map((i) => packContributor(i, 1n));
        await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryContributorsNotSorted")
          .withArgs(1n);
        // The first above the last even when the first is: 5, 1 → position 0.
        await expect(
          f.batches
            .connect(f.alice)
            .registerBatch(f.cooperativeId, info, [packContributor(5, 1n), packContributor(1, 1n)]),
        )
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryContributorsNotSorted")
          .withArgs(0n);
      });
    });

    context("when a contributor is listed twice", function () {
      it("reverts with BatchRegistryContributorsNotSorted naming the repeated entry", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const list = [packContributor(0, 1n), packContributor(1, 2n), packContributor(1, 5n)];
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryContributorsNotSorted")
            .withArgs(2n);
        });
      });
    });

    context("when the weights sum past 2^64-1", function () {
      it("reverts with BatchRegistryWeightOverflow", async function () {
        const f = await loadFixture(fixture);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const list = [packContributor(0, 2n ** 63n), packContributor(1, 2n ** 63n)];
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(
            f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, list),
          ).to.be.revertedWithCustomError(f.batches, "BatchRegistryWeightOverflow");
        });
      });
    });

    context("when a contributor is not a member of the cooperative", function () {
      for (const who of ["outsider", "erin", "coopAdmin"] as const) {
        it(`reverts with BatchRegistryNotMember naming the ${who}'s index`, async function () {
          const f = await loadFixture(fixture);
          const info = await batchInfo({ lotCode: "ROSE-X" });
          const tree = await treeOf(f.batches, [
            { account: f.alice.address, weight: 1n },
            { account: f[who].address, weight: 1n },
          ]);
          const index = tree.contributors.find((c) => c.account === f[who].address)!.index;
          await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
            await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotMember")
              .withArgs(f.cooperativeId, BigInt(index));
          });
        });
      }

      it("reverts for a member who was removed", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.dave.address);
        const info = await batchInfo({ lotCode: "ROSE-X" });
        const tree = await treeOf(f.batches, [
          { account: f.alice.address, weight: 1n },
          { account: f.dave.address, weight: 1n },
        ]);
        await expectUnchanged(f, [offChainBatchId(f.cooperativeId, "ROSE-X")], async () => {
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotMember")
            .withArgs(f.cooperativeId, await f.registry.indexOf(f.dave.address));
        });
      });

      it("names the lowest missing index of a bitmap word, in any word", async function () {
        const f = await loadFixture(fixture);
        const accounts = randomAddresses(600);
        await addMembers(f, f.coopAdmin, f.cooperativeId, accounts);
        const tree = await treeOf(
          f.batches,
          accounts.map((account) => ({ account, weight: 1n })),
        );
        // Indices 0..3 are the fixture's members, then erin (coop 2) at 4: these are 5..604.
        // Remove the members of index 300 and 301 (word 1): 300 is named.
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, await f.registry.accountAt(301n));
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, await f.registry.accountAt(300n));
        const info = await batchInfo({ lotCode: "ROSE-X" });
        await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotMember")
          .withArgs(f.cooperativeId, 300n);
      });
    });

    describe("contributors root", function () {
      for (const n of [1, 2, 3, 7, 64, 300]) {
        it(`equals SimpleMerkleTree.of(keccak256(word)…, { sortLeaves: false }) for ${n} contributor(s)`, async function () {
          const f = await loadFixture(fixture);
          const accounts = randomAddresses(n);
          await addMembers(f, f.coopAdmin, f.cooperativeId, accounts);
          const list = accounts.map((account, i) => ({ account, weight: BigInt(1_000 + 37 * i) }));
          const tree = await treeOf(f.batches, list);
          const simple = SimpleMerkleTree.of(
            tree.words.map((w) => ethers.keccak256(ethers.toBeHex(w, 32))),
            { sortLeaves: false },
          );
          expect(tree.root).to.equal(simple.root);
          const lot = `ROOT-${n}`;
          const info = await batchInfo({ lotCode: lot });
          await expect(f.batches.connect(f.alice).registerBatch(f.cooperativeId, info, tree.words))
            .to.emit(f.batches, "BatchRegistered")
            .withArgs(
              offChainBatchId(f.cooperativeId, lot),
              f.cooperativeId,
              f.alice.address,
              infoArgs(info),
              tree.words,
              simple.root,
              tree.totalWeight,
            );
          const batch = await f.batches.getBatch(offChainBatchId(f.cooperativeId, lot));
          expect(batch.contributorsRoot).to.equal(simple.root);
          expect(batch.totalWeight).to.equal(list.reduce((s, c) => s + c.weight, 0n));
          // Every contributor's proof verifies against the on-chain root.
          for (const c of tree.contributors) {
            const leaf = ethers.keccak256(ethers.toBeHex(tree.wordOf(c.account), 32));
            expect(SimpleMerkleTree.verify(batch.contributorsRoot, leaf, tree.proof(c.account))).to.equal(true);
          }
        });
      }
    });
  });

  describe("recordEvent", function () {
    context("when a member or the admin records a step", function () {
      for (const who of ["bob", "coopAdmin"] as const) {
        it(`emits BatchEvent with the ${who} as recordedBy`, async function () {
          const f = await loadFixture(fixture);
          const t = BigInt(await time.latest()) - 3_600n;
          const doc = ethers.id("packing-report");
          await expect(f.batches.connect(f[who]).recordEvent(f.batchId, BIZ_STEP, "Kelaat M'Gouna", t, doc))
            .to.emit(f.batches, "BatchEvent")
            .withArgs(f.batchId, f[who].address, BIZ_STEP, "Kelaat M'Gouna", t, doc);
        });
      }

      it("accepts an empty location, a 256-byte step, a 128-byte location and the current time", async function () {
        const f = await loadFixture(fixture);
        const now = BigInt(await time.latest()) + 5n;
        await time.setNextBlockTimestamp(now);
        await expect(f.batches.connect(f.alice).recordEvent(f.batchId, "s".repeat(256), "", now, ethers.ZeroHash))
          .to.emit(f.batches, "BatchEvent")
          .withArgs(f.batchId, f.alice.address, "s".repeat(256), "", now, ethers.ZeroHash);
        await expect(f.batches.connect(f.alice).recordEvent(f.batchId, BIZ_STEP, "l".repeat(128), 1n, ethers.ZeroHash))
          .to.emit(f.batches, "BatchEvent")
          .withArgs(f.batchId, f.alice.address, BIZ_STEP, "l".repeat(128), 1n, ethers.ZeroHash);
      });
    });

    context("when the caller may not act for the batch's cooperative", function () {
      for (const who of ["outsider", "erin", "coop2Admin", "certifier"] as const) {
        it(`reverts with BatchRegistryNotAuthorized for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          const t = BigInt(await time.latest());
          await expectUnchanged(f, [], async () => {
            await expect(f.batches.connect(f[who]).recordEvent(f.batchId, BIZ_STEP, "", t, ethers.ZeroHash))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }
    });

    context("when the batch is unknown", function () {
      it("reverts with BatchRegistryUnknownBatch", async function () {
        const f = await loadFixture(fixture);
        const t = BigInt(await time.latest());
        await expectUnchanged(f, [UNKNOWN_BATCH], async () => {
          await expect(f.batches.connect(f.alice).recordEvent(UNKNOWN_BATCH, BIZ_STEP, "", t, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownBatch")
            .withArgs(UNKNOWN_BATCH);
        });
      });
    });

    for (const [what, step] of [
      ["empty", ""],
      ["longer than 256 bytes", "s".repeat(257)],
    ] as const) {
      context(`when the bizStep is ${what}`, function () {
        it('reverts with BatchRegistryInvalidText("bizStep")', async function () {
          const f = await loadFixture(fixture);
          const t = BigInt(await time.latest());
          await expectUnchanged(f, [], async () => {
            await expect(f.batches.connect(f.alice).recordEvent(f.batchId, step, "", t, ethers.ZeroHash))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidText")
              .withArgs("bizStep");
          });
        });
      });
    }

    context("when the location is longer than 128 bytes", function () {
      it('reverts with BatchRegistryInvalidText("location")', async function () {
        const f = await loadFixture(fixture);
        const t = BigInt(await time.latest());
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.alice).recordEvent(f.batchId, BIZ_STEP, "l".repeat(129), t, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidText")
            .withArgs("location");
        });
      });
    });

    context("when the event time is zero or in the future", function () {
      it("reverts with BatchRegistryInvalidTime", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.alice).recordEvent(f.batchId, BIZ_STEP, "", 0n, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidTime")
            .withArgs(0n);
          const now = BigInt(await time.latest()) + 10n;
          await time.setNextBlockTimestamp(now);
          await expect(f.batches.connect(f.alice).recordEvent(f.batchId, BIZ_STEP, "", now + 1n, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidTime")
            .withArgs(now + 1n);
        });
      });
    });
  });

  describe("certify", function () {
    context("when a certifier certifies a batch", function () {
      it("emits BatchCertified with sequential ids from 1 and stores the certification", async function () {
        const f = await loadFixture(fixture);
        const validUntil = BigInt(await time.latest()) + 365n * BigInt(DAY);
        const scheme = "AOP Rose de Kelaat M'Gouna-Dades";
        const hash = ethers.id("certificate-1");
        expect(await f.batches.connect(f.certifier).certify.staticCall(f.batchId, scheme, hash, validUntil)).to.equal(
          1n,
        );
        await expect(f.batches.connect(f.certifier).certify(f.batchId, scheme, hash, validUntil))
          .to.emit(f.batches, "BatchCertified")
          .withArgs(f.batchId, 1n, f.certifier.address, scheme, hash, validUntil);
        await expect(f.batches.connect(f.certifier2).certify(f.almonds.batchId, "organic", ethers.ZeroHash, validUntil))
          .to.emit(f.batches, "BatchCertified")
          .withArgs(f.almonds.batchId, 2n, f.certifier2.address, "organic", ethers.ZeroHash, validUntil);
        expect([...(await f.batches.getCertification(1n))]).to.deep.equal([
          f.batchId,
          f.certifier.address,
          validUntil,
          false,
        ]);
        expect([...(await f.batches.getCertification(2n))]).to.deep.equal([
          f.almonds.batchId,
          f.certifier2.address,
          validUntil,
          false,
        ]);
        expect(await f.batches.isCertificationValid(1n)).to.equal(true);
        expect(await f.batches.isCertificationValid(2n)).to.equal(true);
      });

      it("accepts a 128-byte scheme", async function () {
        const f = await loadFixture(fixture);
        const validUntil = BigInt(await time.latest()) + BigInt(DAY);
        await expect(f.batches.connect(f.certifier).certify(f.batchId, "s".repeat(128), ethers.ZeroHash, validUntil))
          .to.emit(f.batches, "BatchCertified")
          .withArgs(f.batchId, 1n, f.certifier.address, "s".repeat(128), ethers.ZeroHash, validUntil);
      });
    });

    context("when the certification expires", function () {
      it("is valid before validUntil and no longer valid from validUntil on", async function () {
        const f = await loadFixture(fixture);
        const validUntil = BigInt(await time.latest()) + 30n * BigInt(DAY);
        await f.batches.connect(f.certifier).certify(f.batchId, "organic", ethers.ZeroHash, validUntil);
        await time.increaseTo(validUntil - 10n);
        expect(await f.batches.isCertificationValid(1n)).to.equal(true);
        await time.increaseTo(validUntil);
        expect(await f.batches.isCertificationValid(1n)).to.equal(false);
        // The record itself stays readable.
        expect((await f.batches.getCertification(1n)).validUntil).to.equal(validUntil);
      });
    });

    context("when the caller is not a certifier", function () {
      for (const who of ["alice", "coopAdmin", "registrar", "arbiter", "deployer", "outsider"] as const) {
        it(`reverts with AccessControlUnauthorizedAccount(account, CERTIFIER_ROLE) for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          const validUntil = BigInt(await time.latest()) + BigInt(DAY);
          await expectUnchanged(f, [], async () => {
            await expect(f.batches.connect(f[who]).certify(f.batchId, "organic", ethers.ZeroHash, validUntil))
              .to.be.revertedWithCustomError(f.batches, "AccessControlUnauthorizedAccount")
              .withArgs(f[who].address, f.certifierRole);
          });
        });
      }

      it("reverts for a certifier whose role was revoked", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.deployer).revokeRole(f.certifierRole, f.certifier.address);
        const validUntil = BigInt(await time.latest()) + BigInt(DAY);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.certifier).certify(f.batchId, "organic", ethers.ZeroHash, validUntil))
            .to.be.revertedWithCustomError(f.batches, "AccessControlUnauthorizedAccount")
            .withArgs(f.certifier.address, f.certifierRole);
        });
      });
    });

    context("when the batch is unknown", function () {
      it("reverts with BatchRegistryUnknownBatch", async function () {
        const f = await loadFixture(fixture);
        const validUntil = BigInt(await time.latest()) + BigInt(DAY);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.certifier).certify(UNKNOWN_BATCH, "organic", ethers.ZeroHash, validUntil))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownBatch")
            .withArgs(UNKNOWN_BATCH);
        });
      });
    });

    for (const [what, scheme] of [
      ["empty", ""],
      ["longer than 128 bytes", "s".repeat(129)],
    ] as const) {
      context(`when the scheme is ${what}`, function () {
        it('reverts with BatchRegistryInvalidText("scheme")', async function () {
          const f = await loadFixture(fixture);
          const validUntil = BigInt(await time.latest()) + BigInt(DAY);
          await expectUnchanged(f, [], async () => {
            await expect(f.batches.connect(f.certifier).certify(f.batchId, scheme, ethers.ZeroHash, validUntil))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidText")
              .withArgs("scheme");
          });
        });
      });
    }

    context("when validUntil is not in the future", function () {
      it("reverts with BatchRegistryInvalidTime", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [], async () => {
          for (const offset of [undefined, -1_000n, 0n]) {
            // A reverted transaction is still mined, so each attempt gets its own block time.
            const now = BigInt(await time.latest()) + 10n;
            const validUntil = offset === undefined ? 0n : now + offset;
            await time.setNextBlockTimestamp(now);
            await expect(f.batches.connect(f.certifier).certify(f.batchId, "organic", ethers.ZeroHash, validUntil))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidTime")
              .withArgs(validUntil);
          }
        });
      });
    });

    describe("getCertification / isCertificationValid", function () {
      it("revert with BatchRegistryUnknownCertification / return false for an unknown id", async function () {
        const f = await loadFixture(fixture);
        await expect(f.batches.getCertification(0n))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownCertification")
          .withArgs(0n);
        await expect(f.batches.getCertification(1n))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownCertification")
          .withArgs(1n);
        expect(await f.batches.isCertificationValid(0n)).to.equal(false);
        expect(await f.batches.isCertificationValid(1n)).to.equal(false);
      });
    });
  });

  describe("revokeCertification", function () {
    async function certified() {
      const f = await loadFixture(fixture);
      const validUntil = BigInt(await time.latest()) + 365n * BigInt(DAY);
      await f.batches.connect(f.certifier).certify(f.batchId, "organic", ethers.id("cert"), validUntil);
      return { ...f, validUntil };
    }

    context("when the issuer revokes", function () {
      it("emits CertificationRevoked, marks it revoked and no longer valid", async function () {
        const f = await certified();
        const reason = ethers.id("fraud-report");
        await expect(f.batches.connect(f.certifier).revokeCertification(1n, reason))
          .to.emit(f.batches, "CertificationRevoked")
          .withArgs(f.batchId, 1n, f.certifier.address, reason);
        expect([...(await f.batches.getCertification(1n))]).to.deep.equal([
          f.batchId,
          f.certifier.address,
          f.validUntil,
          true,
        ]);
        expect(await f.batches.isCertificationValid(1n)).to.equal(false);
      });
    });

    context("when another certifier revokes", function () {
      it("reverts with BatchRegistryNotIssuer", async function () {
        const f = await certified();
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.certifier2).revokeCertification(1n, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotIssuer")
            .withArgs(1n, f.certifier2.address);
        });
        expect(await f.batches.isCertificationValid(1n)).to.equal(true);
      });
    });

    context("when the caller is not a certifier", function () {
      for (const who of ["alice", "coopAdmin", "deployer", "outsider"] as const) {
        it(`reverts with AccessControlUnauthorizedAccount(account, CERTIFIER_ROLE) for the ${who}`, async function () {
          const f = await certified();
          await expectUnchanged(f, [], async () => {
            await expect(f.batches.connect(f[who]).revokeCertification(1n, ethers.ZeroHash))
              .to.be.revertedWithCustomError(f.batches, "AccessControlUnauthorizedAccount")
              .withArgs(f[who].address, f.certifierRole);
          });
        });
      }

      it("reverts for the issuer after its role was revoked", async function () {
        const f = await certified();
        await f.registry.connect(f.deployer).revokeRole(f.certifierRole, f.certifier.address);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.certifier).revokeCertification(1n, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "AccessControlUnauthorizedAccount")
            .withArgs(f.certifier.address, f.certifierRole);
        });
      });
    });

    context("when the certification is already revoked", function () {
      it("reverts with BatchRegistryCertificationRevoked", async function () {
        const f = await certified();
        await f.batches.connect(f.certifier).revokeCertification(1n, ethers.ZeroHash);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.certifier).revokeCertification(1n, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryCertificationRevoked")
            .withArgs(1n);
        });
      });
    });

    context("when the certification is unknown", function () {
      it("reverts with BatchRegistryUnknownCertification", async function () {
        const f = await certified();
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.certifier).revokeCertification(99n, ethers.ZeroHash))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownCertification")
            .withArgs(99n);
        });
      });
    });
  });

  describe("splitBatch", function () {
    context("when a member splits a batch", function () {
      it("creates children that share the parent's root and total weight", async function () {
        const f = await loadFixture(fixture);
        const children = [child("ROSE-001-A", 400_000n), child("ROSE-001-B", 250_000n)];
        const ids = children.map((c) => offChainBatchId(f.cooperativeId, c.lotCode as string));
        expect(await f.batches.connect(f.alice).splitBatch.staticCall(f.batchId, children)).to.deep.equal(ids);
        await f.batches.connect(f.alice).splitBatch(f.batchId, children);
        expect([...(await f.batches.getBatch(ids[0]))]).to.deep.equal([
          f.cooperativeId,
          400_000n,
          0n,
          f.tree.totalWeight,
          f.tree.root,
        ]);
        expect([...(await f.batches.getBatch(ids[1]))]).to.deep.equal([
          f.cooperativeId,
          250_000n,
          0n,
          f.tree.totalWeight,
          f.tree.root,
        ]);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(650_000n);
        expect(await f.batches.exists(ids[0])).to.equal(true);
      });

      it("emits BatchRegistered per child with an empty contributor list, then BatchSplit", async function () {
        const f = await loadFixture(fixture);
        const children = [child("ROSE-001-A", 400_000n), child("ROSE-001-B", 250_000n)];
        const ids = children.map((c) => offChainBatchId(f.cooperativeId, c.lotCode as string));
        const tx = f.batches.connect(f.bob).splitBatch(f.batchId, children);
        for (const [i, c] of children.entries()) {
          await expect(tx)
            .to.emit(f.batches, "BatchRegistered")
            .withArgs(
              ids[i],
              f.cooperativeId,
              f.bob.address,
              [ethers.ZeroHash, 0n, c.lotCode, c.quantity, ethers.ZeroHash, "", 0n, c.metadataHash],
              [],
              f.tree.root,
              f.tree.totalWeight,
            );
        }
        await expect(tx).to.emit(f.batches, "BatchSplit").withArgs(f.batchId, f.bob.address, ids, [400_000n, 250_000n]);
        const receipt = await (await tx).wait();
        const names = receipt!.logs.map((l) => f.batches.interface.parseLog(l)?.name);
        expect(names).to.deep.equal(["BatchRegistered", "BatchRegistered", "BatchSplit"]);
      });

      it("lets the admin split, and accepts children that take exactly what remains", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.coopAdmin).splitBatch(f.batchId, [child("A", 600_000n)]);
        await expect(f.batches.connect(f.coopAdmin).splitBatch(f.batchId, [child("B", 300_000n), child("C", 100_000n)]))
          .to.emit(f.batches, "BatchSplit")
          .withArgs(
            f.batchId,
            f.coopAdmin.address,
            [offChainBatchId(1n, "B"), offChainBatchId(1n, "C")],
            [300_000n, 100_000n],
          );
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(PARENT_QUANTITY);
        await expect(f.batches.connect(f.coopAdmin).splitBatch(f.batchId, [child("D", 1n)]))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
          .withArgs(f.batchId, 0n, 1n);
      });

      it("accepts MAX_CHILDREN children", async function () {
        const f = await loadFixture(fixture);
        const children = Array.from({ length: 50 }, (_, i) => child(`C-${i}`, 1_000n));
        await f.batches.connect(f.alice).splitBatch(f.batchId, children);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(50_000n);
        expect(await f.batches.exists(offChainBatchId(f.cooperativeId, "C-49"))).to.equal(true);
      });

      it("lets a child be split again, drawing from the child only", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.alice).splitBatch(f.batchId, [child("ROSE-001-A", 400_000n)]);
        const childId = offChainBatchId(f.cooperativeId, "ROSE-001-A");
        const grandchildId = offChainBatchId(f.cooperativeId, "ROSE-001-A1");
        await expect(f.batches.connect(f.alice).splitBatch(childId, [child("ROSE-001-A1", 100_000n)]))
          .to.emit(f.batches, "BatchSplit")
          .withArgs(childId, f.alice.address, [grandchildId], [100_000n]);
        expect((await f.batches.getBatch(childId)).drawn).to.equal(100_000n);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(400_000n);
        expect([...(await f.batches.getBatch(grandchildId))]).to.deep.equal([
          f.cooperativeId,
          100_000n,
          0n,
          f.tree.totalWeight,
          f.tree.root,
        ]);
        await expect(f.batches.connect(f.alice).splitBatch(childId, [child("ROSE-001-A2", 300_001n)]))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
          .withArgs(childId, 300_000n, 300_001n);
      });
    });

    context("when the children need more than the parent holds", function () {
      it("reverts with BatchRegistryQuantityExceeded(parent, available, requested)", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 400_000n)]);
        const children = [child("B", 500_000n), child("C", 200_000n)];
        await expectUnchanged(f, [offChainBatchId(1n, "B"), offChainBatchId(1n, "C")], async () => {
          await expect(f.batches.connect(f.alice).splitBatch(f.batchId, children))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
            .withArgs(f.batchId, 600_000n, 700_000n);
        });
      });

      it("reports 2^64-1 as requested when the children's total overflows 64 bits", async function () {
        const f = await loadFixture(fixture);
        const children = [child("B", MAX_UINT64), child("C", MAX_UINT64)];
        await expectUnchanged(f, [offChainBatchId(1n, "B"), offChainBatchId(1n, "C")], async () => {
          await expect(f.batches.connect(f.alice).splitBatch(f.batchId, children))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
            .withArgs(f.batchId, PARENT_QUANTITY, MAX_UINT64);
        });
      });
    });

    context("when a child quantity is zero", function () {
      it("reverts with BatchRegistryZeroQuantity", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [offChainBatchId(1n, "A"), offChainBatchId(1n, "B")], async () => {
          await expect(
            f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 10n), child("B", 0n)]),
          ).to.be.revertedWithCustomError(f.batches, "BatchRegistryZeroQuantity");
        });
      });
    });

    context("when there are no children or more than MAX_CHILDREN", function () {
      it("reverts with BatchRegistryInvalidLineageCount", async function () {
        const f = await loadFixture(fixture);
        const many = Array.from({ length: 51 }, (_, i) => child(`C-${i}`, 1n));
        await expectUnchanged(f, [offChainBatchId(1n, "C-0")], async () => {
          await expect(f.batches.connect(f.alice).splitBatch(f.batchId, []))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidLineageCount")
            .withArgs(0n, MAX_CHILDREN);
          await expect(f.batches.connect(f.alice).splitBatch(f.batchId, many))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidLineageCount")
            .withArgs(51n, MAX_CHILDREN);
        });
      });
    });

    context("when a child lot code is already used", function () {
      it("reverts with BatchRegistryDuplicateLot for a lot repeated in the split", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [offChainBatchId(1n, "A")], async () => {
          await expect(f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 1n), child("A", 2n)]))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryDuplicateLot")
            .withArgs(f.cooperativeId, word("A"));
        });
      });

      it("reverts with BatchRegistryDuplicateLot for an existing lot (the parent's own)", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.alice).splitBatch(f.batchId, [child(f.info.lotCode as string, 1n)]))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryDuplicateLot")
            .withArgs(f.cooperativeId, f.info.lotCode);
        });
      });
    });

    context("when a child lot code is the zero word or longer than 20 bytes (its last 12 bytes not zero)", function () {
      it('reverts with BatchRegistryInvalidText("lotCode")', async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [offChainBatchId(1n, "A")], async () => {
          for (const lot of ["", "L".repeat(21), "L".repeat(32)]) {
            await expect(f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 1n), child(lot, 1n)]))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidText")
              .withArgs("lotCode");
          }
        });
      });
    });

    context("when the caller may not act for the parent's cooperative", function () {
      for (const who of ["outsider", "erin", "coop2Admin"] as const) {
        it(`reverts with BatchRegistryNotAuthorized for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, [offChainBatchId(1n, "A")], async () => {
            await expect(f.batches.connect(f[who]).splitBatch(f.batchId, [child("A", 1n)]))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }
    });

    context("when the parent is unknown", function () {
      it("reverts with BatchRegistryUnknownBatch", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [UNKNOWN_BATCH, offChainBatchId(1n, "A")], async () => {
          await expect(f.batches.connect(f.alice).splitBatch(UNKNOWN_BATCH, [child("A", 1n)]))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownBatch")
            .withArgs(UNKNOWN_BATCH);
        });
      });
    });
  });

  describe("mergeBatches", function () {
    async function mergeInfo(overrides: Partial<BatchInfoText> = {}) {
      return batchInfo({
        productCode: "rose-almond-paste",
        lotCode: "MIX-2026-001",
        quantity: 35_000n,
        unit: "g",
        origin: "Tinghir",
        metadataHash: ethers.id("metadata:MIX-2026-001"),
        ...overrides,
      });
    }

    function draws(f: Fixture, rose = 250_000n, almond = 100_000n): IBatchRegistry.DrawStruct[] {
      return [
        { batchId: f.batchId, quantity: rose },
        { batchId: f.almonds.batchId, quantity: almond },
      ];
    }

    context("when a member of both cooperatives merges two parents", function () {
      it("weights the contributors by quantity drawn (mergeContributors)", async function () {
        const f = await loadFixture(fixture);
        const list = mergeList(f);
        // alice: 500k×250k/1M + 100k×100k/400k; bob: 300k×250k/1M; carol: 200k×250k/1M; erin: 300k×100k/400k
        const expected = [
          { account: f.alice.address, weight: 150_000n },
          { account: f.bob.address, weight: 75_000n },
          { account: f.carol.address, weight: 50_000n },
          { account: f.erin.address, weight: 75_000n },
        ].sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : 1));
        expect(list).to.deep.equal(expected);
      });

      it("emits BatchRegistered with the merged list, then BatchesMerged with the inputs", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        const id = offChainBatchId(f.cooperativeId, "MIX-2026-001");
        expect(
          await f.batches.connect(f.alice).mergeBatches.staticCall(f.cooperativeId, draws(f), info, tree.words),
        ).to.equal(id);
        const tx = f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f), info, tree.words);
        await expect(tx)
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(id, f.cooperativeId, f.alice.address, infoArgs(info), tree.words, tree.root, 350_000n);
        await expect(tx)
          .to.emit(f.batches, "BatchesMerged")
          .withArgs(id, f.alice.address, [
            [f.batchId, 250_000n],
            [f.almonds.batchId, 100_000n],
          ]);
        const receipt = await (await tx).wait();
        expect(receipt!.logs.map((l) => f.batches.interface.parseLog(l)?.name)).to.deep.equal([
          "BatchRegistered",
          "BatchesMerged",
        ]);
      });

      it("stores the new batch and draws from each parent", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        await f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f), info, tree.words);
        const id = offChainBatchId(f.cooperativeId, "MIX-2026-001");
        expect([...(await f.batches.getBatch(id))]).to.deep.equal([f.cooperativeId, 35_000n, 0n, 350_000n, tree.root]);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(250_000n);
        expect((await f.batches.getBatch(f.almonds.batchId)).drawn).to.equal(100_000n);
      });

      it("lets the result be registered in the other cooperative too", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        await f.batches.connect(f.alice).mergeBatches(f.coop2Id, draws(f), info, tree.words);
        expect((await f.batches.getBatch(offChainBatchId(f.coop2Id, "MIX-2026-001"))).cooperativeId).to.equal(
          f.coop2Id,
        );
      });

      it("accepts a contributor who has left the cooperative", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.carol.address);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        expect(tree.weightOf(f.carol.address)).to.equal(50_000n);
        await expect(f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f), info, tree.words))
          .to.emit(f.batches, "BatchRegistered")
          .withArgs(anyValue, f.cooperativeId, f.alice.address, anyValue, tree.words, tree.root, 350_000n);
        expect((await f.batches.getBatch(offChainBatchId(f.cooperativeId, "MIX-2026-001"))).contributorsRoot).to.equal(
          tree.root,
        );
      });

      it("transforms a single parent (and a split child) of the caller's cooperative", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.alice).splitBatch(f.batchId, [child("ROSE-001-A", 400_000n)]);
        const childId = offChainBatchId(f.cooperativeId, "ROSE-001-A");
        const list = mergeContributors([
          { contributors: f.tree.contributors, totalWeight: f.tree.totalWeight, drawn: 400_000n },
        ]);
        const tree = await treeOf(f.batches, list);
        const info = await mergeInfo({
          productCode: "rose-water",
          lotCode: "RW-2026-001",
          unit: "ml",
          quantity: 4_000n,
        });
        await expect(
          f.batches
            .connect(f.coopAdmin)
            .mergeBatches(f.cooperativeId, [{ batchId: childId, quantity: 400_000n }], info, tree.words),
        )
          .to.emit(f.batches, "BatchesMerged")
          .withArgs(offChainBatchId(f.cooperativeId, "RW-2026-001"), f.coopAdmin.address, [[childId, 400_000n]]);
        expect((await f.batches.getBatch(childId)).drawn).to.equal(400_000n);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(400_000n);
      });
    });

    context("when a draw exceeds what a parent holds", function () {
      it("reverts with BatchRegistryQuantityExceeded and draws from no parent", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f, 250_000n, 400_001n));
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(
            f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f, 250_000n, 400_001n), info, tree.words),
          )
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
            .withArgs(f.almonds.batchId, 400_000n, 400_001n);
        });
      });

      it("counts what earlier splits drew", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 900_000n)]);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f, 100_001n));
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f, 100_001n), info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
            .withArgs(f.batchId, 100_000n, 100_001n);
        });
      });
    });

    context("when a draw is zero", function () {
      it("reverts with BatchRegistryZeroQuantity", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(
            f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f, 250_000n, 0n), info, tree.words),
          ).to.be.revertedWithCustomError(f.batches, "BatchRegistryZeroQuantity");
        });
      });
    });

    context("when a parent appears twice", function () {
      it("reverts with BatchRegistryDuplicateParent", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        const inputs = [...draws(f), { batchId: f.batchId, quantity: 1n }];
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(f.batches.connect(f.alice).mergeBatches(f.cooperativeId, inputs, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryDuplicateParent")
            .withArgs(f.batchId);
        });
      });
    });

    context("when a parent is unknown", function () {
      it("reverts with BatchRegistryUnknownBatch", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        const inputs = [draws(f)[0], { batchId: UNKNOWN_BATCH, quantity: 1n }];
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(f.batches.connect(f.alice).mergeBatches(f.cooperativeId, inputs, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownBatch")
            .withArgs(UNKNOWN_BATCH);
        });
      });
    });

    context("when there are no parents or more than MAX_PARENTS", function () {
      it("reverts with BatchRegistryInvalidLineageCount", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        const many = Array.from({ length: 21 }, (_, i) => ({ batchId: ethers.id(`p-${i}`), quantity: 1n }));
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(f.batches.connect(f.alice).mergeBatches(f.cooperativeId, [], info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidLineageCount")
            .withArgs(0n, MAX_PARENTS);
          await expect(f.batches.connect(f.alice).mergeBatches(f.cooperativeId, many, info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidLineageCount")
            .withArgs(21n, MAX_PARENTS);
        });
      });
    });

    context("when the caller may not act for a parent's cooperative", function () {
      for (const who of ["bob", "coopAdmin"] as const) {
        it(`reverts with BatchRegistryNotAuthorized naming that cooperative for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          const info = await mergeInfo();
          const tree = await treeOf(f.batches, mergeList(f));
          await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
            await expect(f.batches.connect(f[who]).mergeBatches(f.cooperativeId, draws(f), info, tree.words))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
              .withArgs(f.coop2Id, f[who].address);
          });
        });
      }
    });

    context("when the caller may not act for the target cooperative", function () {
      it("reverts with BatchRegistryNotAuthorized naming the target", async function () {
        const f = await loadFixture(fixture);
        const info = await mergeInfo();
        const tree = await treeOf(f.batches, mergeList(f));
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(f.batches.connect(f.erin).mergeBatches(f.cooperativeId, draws(f), info, tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotAuthorized")
            .withArgs(f.cooperativeId, f.erin.address);
        });
      });
    });

    context("when the new batch's info or contributors are invalid", function () {
      it("reverts with the registerBatch errors and draws nothing", async function () {
        const f = await loadFixture(fixture);
        const tree = await treeOf(f.batches, mergeList(f));
        const merge = async (info: IBatchRegistry.BatchInfoStruct, list: bigint[]) =>
          f.batches.connect(f.alice).mergeBatches(f.cooperativeId, draws(f), info, list);
        const now = BigInt(await time.latest());
        await expectUnchanged(f, [offChainBatchId(1n, "MIX-2026-001")], async () => {
          await expect(merge(await mergeInfo({ lotCode: f.info.lotCode as string }), tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryDuplicateLot")
            .withArgs(f.cooperativeId, f.info.lotCode);
          await expect(merge(await mergeInfo({ quantity: 0n }), tree.words)).to.be.revertedWithCustomError(
            f.batches,
            "BatchRegistryZeroQuantity",
          );
          await expect(merge(await mergeInfo({ productionDate: now + BigInt(DAY) }), tree.words))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidTime")
            .withArgs(now + BigInt(DAY));
          await expect(merge(await mergeInfo(), []))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryInvalidContributorCount")
            .withArgs(0n, MAX_CONTRIBUTORS);
          await expect(merge(await mergeInfo(), [...tree.words].reverse()))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryContributorsNotSorted")
            .withArgs(0n);
          // Contributors of a merge need an index, not a current membership: an index not given is refused.
          const count = await f.registry.accountCount();
          await expect(merge(await mergeInfo(), [...tree.words, packContributor(count, 1n)]))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownAccount")
            .withArgs(count);
        });
      });
    });
  });

  describe("drawForSale / restoreForSale", function () {
    context("when the drawer draws", function () {
      it("emits QuantityDrawn, returns the updated batch and adds to drawn", async function () {
        const f = await loadFixture(fixture);
        const returned = await f.batches.connect(f.drawer).drawForSale.staticCall(f.batchId, 300_000n);
        expect([...returned]).to.deep.equal([
          f.cooperativeId,
          PARENT_QUANTITY,
          300_000n,
          f.tree.totalWeight,
          f.tree.root,
        ]);
        await expect(f.batches.connect(f.drawer).drawForSale(f.batchId, 300_000n))
          .to.emit(f.batches, "QuantityDrawn")
          .withArgs(f.batchId, 300_000n, 300_000n);
        await expect(f.batches.connect(f.drawer).drawForSale(f.batchId, 700_000n))
          .to.emit(f.batches, "QuantityDrawn")
          .withArgs(f.batchId, 700_000n, PARENT_QUANTITY);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(PARENT_QUANTITY);
      });

      it("reverts with BatchRegistryQuantityExceeded past what the batch holds", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 600_000n)]);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.drawer).drawForSale(f.batchId, 400_001n))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryQuantityExceeded")
            .withArgs(f.batchId, 400_000n, 400_001n);
        });
      });

      it("reverts with BatchRegistryZeroQuantity for zero", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.drawer).drawForSale(f.batchId, 0n)).to.be.revertedWithCustomError(
            f.batches,
            "BatchRegistryZeroQuantity",
          );
        });
      });

      it("reverts with BatchRegistryUnknownBatch for an unknown batch", async function () {
        const f = await loadFixture(fixture);
        await expect(f.batches.connect(f.drawer).drawForSale(UNKNOWN_BATCH, 1n))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownBatch")
          .withArgs(UNKNOWN_BATCH);
        await expect(f.batches.connect(f.drawer).restoreForSale(UNKNOWN_BATCH, 0n))
          .to.be.revertedWithCustomError(f.batches, "BatchRegistryUnknownBatch")
          .withArgs(UNKNOWN_BATCH);
        expect(await f.batches.exists(UNKNOWN_BATCH)).to.equal(false);
      });
    });

    context("when the drawer restores", function () {
      it("emits QuantityRestored and lowers drawn", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.drawer).drawForSale(f.batchId, 300_000n);
        await expect(f.batches.connect(f.drawer).restoreForSale(f.batchId, 100_000n))
          .to.emit(f.batches, "QuantityRestored")
          .withArgs(f.batchId, 100_000n, 200_000n);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(200_000n);
        await expect(f.batches.connect(f.drawer).restoreForSale(f.batchId, 200_000n))
          .to.emit(f.batches, "QuantityRestored")
          .withArgs(f.batchId, 200_000n, 0n);
        expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(0n);
      });

      it("reverts with BatchRegistryRestoreExceeded past what was drawn", async function () {
        const f = await loadFixture(fixture);
        await f.batches.connect(f.drawer).drawForSale(f.batchId, 300_000n);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.drawer).restoreForSale(f.batchId, 300_001n))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryRestoreExceeded")
            .withArgs(f.batchId, 300_000n, 300_001n);
        });
      });
    });

    context("when the caller does not hold DRAWER_ROLE", function () {
      for (const who of ["alice", "coopAdmin", "deployer", "registrar", "certifier", "outsider"] as const) {
        it(`reverts with BatchRegistryNotDrawer for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          await f.batches.connect(f.drawer).drawForSale(f.batchId, 10n);
          await expectUnchanged(f, [], async () => {
            await expect(f.batches.connect(f[who]).drawForSale(f.batchId, 1n))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotDrawer")
              .withArgs(f[who].address);
            await expect(f.batches.connect(f[who]).restoreForSale(f.batchId, 1n))
              .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotDrawer")
              .withArgs(f[who].address);
          });
        });
      }

      it("checks msg.sender: the forwarder relaying for the drawer is refused", async function () {
        const f = await loadFixture(fixture);
        const fwd = await f.forwarder.getAddress();
        await impersonateAccount(fwd);
        await setBalance(fwd, 10n ** 18n);
        const data = f.batches.interface.encodeFunctionData("drawForSale", [f.batchId, 1n]);
        await expectUnchanged(f, [], async () => {
          await expect(
            (await ethers.getSigner(fwd)).sendTransaction({
              to: await f.batches.getAddress(),
              data: ethers.concat([data, f.drawer.address]),
            }),
          )
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotDrawer")
            .withArgs(fwd);
        });
      });

      it("refuses a drawer whose role was revoked", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.deployer).revokeRole(await f.registry.DRAWER_ROLE(), f.drawer.address);
        await expectUnchanged(f, [], async () => {
          await expect(f.batches.connect(f.drawer).drawForSale(f.batchId, 1n))
            .to.be.revertedWithCustomError(f.batches, "BatchRegistryNotDrawer")
            .withArgs(f.drawer.address);
        });
      });
    });
  });

  describe("getBatch / exists", function () {
    it("reports registered batches, split children and merge outputs; not unknown ids", async function () {
      const f = await loadFixture(fixture);
      expect(await f.batches.exists(f.batchId)).to.equal(true);
      expect(await f.batches.exists(f.almonds.batchId)).to.equal(true);
      expect(await f.batches.exists(UNKNOWN_BATCH)).to.equal(false);
      expect(await f.batches.exists(ethers.ZeroHash)).to.equal(false);
      const childId = offChainBatchId(f.cooperativeId, "A");
      expect(await f.batches.exists(childId)).to.equal(false);
      await f.batches.connect(f.alice).splitBatch(f.batchId, [child("A", 1n)]);
      expect(await f.batches.exists(childId)).to.equal(true);
    });

    it("getBatch reverts with BatchRegistryUnknownBatch for an unknown id", async function () {
      const { batches } = await loadFixture(fixture);
      await expect(batches.getBatch(UNKNOWN_BATCH))
        .to.be.revertedWithCustomError(batches, "BatchRegistryUnknownBatch")
        .withArgs(UNKNOWN_BATCH);
    });

    it("still exists once fully drawn", async function () {
      const f = await loadFixture(fixture);
      await f.batches.connect(f.drawer).drawForSale(f.batchId, PARENT_QUANTITY);
      expect(await f.batches.exists(f.batchId)).to.equal(true);
      expect((await f.batches.getBatch(f.batchId)).drawn).to.equal(PARENT_QUANTITY);
    });
  });
});
