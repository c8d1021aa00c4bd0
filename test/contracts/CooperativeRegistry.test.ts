import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { DAY, RESERVE_BPS, deployPlatform, referenceHash } from "../helpers/fixtures";
import type { CooperativeRegistry } from "../../typechain-types";

const NAME = "Cooperative Dades Almonds";
const REGION = "Drâa-Tafilalet";
const REG_NUMBER = "ODCO-DDS-2020-0007";
const UNKNOWN = 99n;
const MAX_RESERVE = 5_000n;

async function fixture() {
  const platform = await deployPlatform();
  const roles = {
    registrar: await platform.registry.REGISTRAR_ROLE(),
    certifier: await platform.registry.CERTIFIER_ROLE(),
    arbiter: await platform.registry.ARBITER_ROLE(),
    drawer: await platform.registry.DRAWER_ROLE(),
    defaultAdmin: await platform.registry.DEFAULT_ADMIN_ROLE(),
  };
  return { ...platform, roles };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Everything the registry stores that the tests can read: cooperatives and the membership of every signer. */
async function registryState(registry: CooperativeRegistry, accounts: HardhatEthersSigner[]) {
  const count = await registry.cooperativeCount();
  const cooperatives = [];
  for (let id = 1n; id <= count; id++) {
    const c = await registry.getCooperative(id);
    const members = [];
    for (const a of accounts) members.push(await registry.isMember(id, a.address));
    cooperatives.push({ cooperative: [...c], members });
  }
  return { count, cooperatives };
}

/** Runs `action` (which must assert a revert) and checks that the registry's state did not change. */
async function expectUnchanged(f: Fixture, action: () => Promise<void>) {
  const accounts = await ethers.getSigners();
  const before = await registryState(f.registry, accounts);
  await action();
  expect(await registryState(f.registry, accounts)).to.deep.equal(before);
}

function register(
  f: Fixture,
  overrides: Partial<{
    name: string;
    region: string;
    regNumber: string;
    admin: string;
    reserve: bigint;
    womenLed: boolean;
  }> = {},
) {
  return f.registry
    .connect(f.registrar)
    .registerCooperative(
      overrides.name ?? NAME,
      overrides.region ?? REGION,
      overrides.regNumber ?? REG_NUMBER,
      overrides.admin ?? f.outsider.address,
      overrides.reserve ?? 500n,
      overrides.womenLed ?? false,
    );
}

describe("CooperativeRegistry", function () {
  describe("deployment", function () {
    it("exposes the role constants and the reserve cap", async function () {
      const { registry } = await loadFixture(fixture);
      expect(await registry.REGISTRAR_ROLE()).to.equal(ethers.id("REGISTRAR_ROLE"));
      expect(await registry.CERTIFIER_ROLE()).to.equal(ethers.id("CERTIFIER_ROLE"));
      expect(await registry.ARBITER_ROLE()).to.equal(ethers.id("ARBITER_ROLE"));
      expect(await registry.DRAWER_ROLE()).to.equal(ethers.id("DRAWER_ROLE"));
      expect(await registry.MAX_RESERVE_BPS()).to.equal(MAX_RESERVE);
    });

    it("makes the deployer the platform admin and grants the configured roles", async function () {
      const { registry, deployer, registrar, certifier, arbiter, escrow, roles } = await loadFixture(fixture);
      expect(await registry.defaultAdmin()).to.equal(deployer.address);
      expect(await registry.hasRole(roles.defaultAdmin, deployer.address)).to.equal(true);
      expect(await registry.hasRole(roles.registrar, registrar.address)).to.equal(true);
      expect(await registry.hasRole(roles.certifier, certifier.address)).to.equal(true);
      expect(await registry.hasRole(roles.arbiter, arbiter.address)).to.equal(true);
      expect(await registry.hasRole(roles.drawer, await escrow.getAddress())).to.equal(true);
      expect(await registry.hasRole(roles.registrar, deployer.address)).to.equal(false);
    });

    it("trusts the forwarder", async function () {
      const { registry, forwarder, outsider } = await loadFixture(fixture);
      expect(await registry.isTrustedForwarder(await forwarder.getAddress())).to.equal(true);
      expect(await registry.isTrustedForwarder(outsider.address)).to.equal(false);
    });

    context("when the forwarder is the zero address", function () {
      it("reverts with CooperativeRegistryZeroAddress", async function () {
        const { registry, deployer } = await loadFixture(fixture);
        const factory = await ethers.getContractFactory("CooperativeRegistry");
        await expect(factory.deploy(deployer.address, DAY, ethers.ZeroAddress)).to.be.revertedWithCustomError(
          registry,
          "CooperativeRegistryZeroAddress",
        );
      });
    });
  });

  describe("registerCooperative", function () {
    context("when the registrar registers a valid cooperative", function () {
      it("counts ids from 1 (the fixture's cooperative is 1)", async function () {
        const { registry, registrar, coopAdmin } = await loadFixture(fixture);
        expect(await registry.cooperativeCount()).to.equal(1n);
        const [log] = await registry.queryFilter(registry.filters.CooperativeRegistered());
        expect(log.args.cooperativeId).to.equal(1n);
        expect(log.args.admin).to.equal(coopAdmin.address);
        await expect(registry.getCooperative(0n))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryUnknownCooperative")
          .withArgs(0n);
        expect(
          await registry
            .connect(registrar)
            .registerCooperative.staticCall(NAME, REGION, REG_NUMBER, coopAdmin.address, 0n, false),
        ).to.equal(2n);
      });

      it("emits CooperativeRegistered with every field", async function () {
        const f = await loadFixture(fixture);
        await expect(register(f, { reserve: 750n, womenLed: true }))
          .to.emit(f.registry, "CooperativeRegistered")
          .withArgs(2n, f.outsider.address, NAME, REGION, REG_NUMBER, 750n, true);
      });

      it("stores the cooperative and increments cooperativeCount", async function () {
        const f = await loadFixture(fixture);
        await register(f, { reserve: 750n, womenLed: false });
        await register(f, { regNumber: "ODCO-DDS-2021-0001", admin: f.dave.address, reserve: 0n, womenLed: true });
        expect(await f.registry.cooperativeCount()).to.equal(3n);
        const c2 = await f.registry.getCooperative(2n);
        expect(c2.admin).to.equal(f.outsider.address);
        expect(c2.reserveBps).to.equal(750n);
        expect(c2.womenLed).to.equal(false);
        expect(c2.memberCount).to.equal(0n);
        expect(c2.name).to.equal(NAME);
        expect(c2.region).to.equal(REGION);
        expect(c2.registrationNumber).to.equal(REG_NUMBER);
        const c3 = await f.registry.getCooperative(3n);
        expect([...c3]).to.deep.equal([f.dave.address, 0n, true, 0n, NAME, REGION, "ODCO-DDS-2021-0001"]);
        expect(await f.registry.adminAndReserve(2n)).to.deep.equal([f.outsider.address, 750n]);
        expect(await f.registry.isCooperativeAdmin(2n, f.outsider.address)).to.equal(true);
      });

      it("reads the fixture's cooperative back", async function () {
        const { registry, coopAdmin } = await loadFixture(fixture);
        expect([...(await registry.getCooperative(1n))]).to.deep.equal([
          coopAdmin.address,
          RESERVE_BPS,
          true,
          4n,
          "Cooperative Tighmert Roses",
          "Tinghir",
          "ODCO-TGH-2019-0042",
        ]);
      });

      it("accepts texts of exactly 128 bytes and the maximum reserve rate", async function () {
        const f = await loadFixture(fixture);
        const text = "x".repeat(128);
        await expect(register(f, { name: text, region: text, regNumber: text, reserve: MAX_RESERVE }))
          .to.emit(f.registry, "CooperativeRegistered")
          .withArgs(2n, f.outsider.address, text, text, text, MAX_RESERVE, false);
      });

      it("lets the same account administer several cooperatives", async function () {
        const f = await loadFixture(fixture);
        await register(f, { admin: f.coopAdmin.address });
        expect(await f.registry.isCooperativeAdmin(1n, f.coopAdmin.address)).to.equal(true);
        expect(await f.registry.isCooperativeAdmin(2n, f.coopAdmin.address)).to.equal(true);
      });
    });

    context("when the caller is not a registrar", function () {
      for (const who of ["deployer", "coopAdmin", "alice", "certifier", "arbiter", "outsider"] as const) {
        it(`reverts with AccessControlUnauthorizedAccount for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          const signer = f[who];
          await expectUnchanged(f, async () => {
            await expect(
              f.registry.connect(signer).registerCooperative(NAME, REGION, REG_NUMBER, signer.address, 0n, false),
            )
              .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
              .withArgs(signer.address, f.roles.registrar);
          });
        });
      }

      it("reverts for a registrar whose role was revoked", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.deployer).revokeRole(f.roles.registrar, f.registrar.address);
        await expectUnchanged(f, async () => {
          await expect(register(f))
            .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
            .withArgs(f.registrar.address, f.roles.registrar);
        });
      });
    });

    context("when the admin is the zero address", function () {
      it("reverts with CooperativeRegistryZeroAddress", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(register(f, { admin: ethers.ZeroAddress })).to.be.revertedWithCustomError(
            f.registry,
            "CooperativeRegistryZeroAddress",
          );
        });
      });
    });

    for (const [field, key] of [
      ["name", "name"],
      ["region", "region"],
      ["registrationNumber", "regNumber"],
    ] as const) {
      context(`when the ${field} is empty`, function () {
        it(`reverts with CooperativeRegistryInvalidText("${field}")`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, async () => {
            await expect(register(f, { [key]: "" }))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryInvalidText")
              .withArgs(field);
          });
        });
      });

      context(`when the ${field} is longer than 128 bytes`, function () {
        it(`reverts with CooperativeRegistryInvalidText("${field}")`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, async () => {
            await expect(register(f, { [key]: "x".repeat(129) }))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryInvalidText")
              .withArgs(field);
          });
        });

        it("counts bytes, not characters (65 Arabic letters are 130 bytes)", async function () {
          const f = await loadFixture(fixture);
          const arabic = "ت".repeat(65);
          expect(ethers.toUtf8Bytes(arabic).length).to.equal(130);
          await expectUnchanged(f, async () => {
            await expect(register(f, { [key]: arabic }))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryInvalidText")
              .withArgs(field);
          });
        });
      });
    }

    context("when the registration number is already used", function () {
      it("reverts with CooperativeRegistryDuplicateRegistration naming the existing id", async function () {
        const f = await loadFixture(fixture);
        await register(f);
        await expectUnchanged(f, async () => {
          await expect(register(f, { name: "Another", admin: f.dave.address }))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryDuplicateRegistration")
            .withArgs(REG_NUMBER, 2n);
          await expect(register(f, { regNumber: "ODCO-TGH-2019-0042" }))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryDuplicateRegistration")
            .withArgs("ODCO-TGH-2019-0042", 1n);
        });
      });
    });

    context("when the reserve rate is above 5000 bps", function () {
      it("reverts with CooperativeRegistryReserveTooHigh", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(register(f, { reserve: MAX_RESERVE + 1n }))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryReserveTooHigh")
            .withArgs(MAX_RESERVE + 1n, MAX_RESERVE);
        });
      });
    });
  });

  describe("setCooperativeAdmin", function () {
    context("when the current admin hands over", function () {
      it("emits CooperativeAdminChanged and moves the admin rights", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.coopAdmin).setCooperativeAdmin(f.cooperativeId, f.dave.address))
          .to.emit(f.registry, "CooperativeAdminChanged")
          .withArgs(f.cooperativeId, f.coopAdmin.address, f.dave.address);
        expect((await f.registry.getCooperative(f.cooperativeId)).admin).to.equal(f.dave.address);
        expect(await f.registry.isCooperativeAdmin(f.cooperativeId, f.dave.address)).to.equal(true);
        expect(await f.registry.isCooperativeAdmin(f.cooperativeId, f.coopAdmin.address)).to.equal(false);
        await expect(f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, f.buyer.address, referenceHash("x")))
          .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotCooperativeAdmin")
          .withArgs(f.cooperativeId, f.coopAdmin.address);
        await expect(f.registry.connect(f.dave).addMember(f.cooperativeId, f.buyer.address, referenceHash("x")))
          .to.emit(f.registry, "MemberAdded")
          .withArgs(f.cooperativeId, f.buyer.address, 4n, referenceHash("x"));
      });
    });

    context("when the registrar appoints a new admin", function () {
      it("emits CooperativeAdminChanged", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.registrar).setCooperativeAdmin(f.cooperativeId, f.buyer.address))
          .to.emit(f.registry, "CooperativeAdminChanged")
          .withArgs(f.cooperativeId, f.coopAdmin.address, f.buyer.address);
        expect((await f.registry.getCooperative(f.cooperativeId)).admin).to.equal(f.buyer.address);
      });
    });

    context("when the caller is neither the admin nor a registrar", function () {
      for (const who of ["alice", "certifier", "arbiter", "deployer", "outsider"] as const) {
        it(`reverts with CooperativeRegistryNotCooperativeAdmin for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, async () => {
            await expect(f.registry.connect(f[who]).setCooperativeAdmin(f.cooperativeId, f[who].address))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotCooperativeAdmin")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }

      it("reverts for the admin of another cooperative", async function () {
        const f = await loadFixture(fixture);
        await register(f);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.outsider).setCooperativeAdmin(f.cooperativeId, f.outsider.address))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotCooperativeAdmin")
            .withArgs(f.cooperativeId, f.outsider.address);
        });
      });
    });

    context("when the new admin is the zero address", function () {
      it("reverts with CooperativeRegistryZeroAddress", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(
            f.registry.connect(f.coopAdmin).setCooperativeAdmin(f.cooperativeId, ethers.ZeroAddress),
          ).to.be.revertedWithCustomError(f.registry, "CooperativeRegistryZeroAddress");
          await expect(
            f.registry.connect(f.registrar).setCooperativeAdmin(f.cooperativeId, ethers.ZeroAddress),
          ).to.be.revertedWithCustomError(f.registry, "CooperativeRegistryZeroAddress");
        });
      });
    });

    context("when the cooperative is unknown", function () {
      it("reverts with CooperativeRegistryUnknownCooperative", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.registrar).setCooperativeAdmin(UNKNOWN, f.dave.address))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryUnknownCooperative")
            .withArgs(UNKNOWN);
        });
      });
    });
  });

  describe("setReserveRate", function () {
    context("when the admin sets a rate within the cap", function () {
      it("emits ReserveRateChanged and stores the rate", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.coopAdmin).setReserveRate(f.cooperativeId, 2_500n))
          .to.emit(f.registry, "ReserveRateChanged")
          .withArgs(f.cooperativeId, RESERVE_BPS, 2_500n);
        expect(await f.registry.adminAndReserve(f.cooperativeId)).to.deep.equal([f.coopAdmin.address, 2_500n]);
        expect((await f.registry.getCooperative(f.cooperativeId)).reserveBps).to.equal(2_500n);
      });

      it("accepts 0 and the maximum", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.coopAdmin).setReserveRate(f.cooperativeId, MAX_RESERVE))
          .to.emit(f.registry, "ReserveRateChanged")
          .withArgs(f.cooperativeId, RESERVE_BPS, MAX_RESERVE);
        await expect(f.registry.connect(f.coopAdmin).setReserveRate(f.cooperativeId, 0n))
          .to.emit(f.registry, "ReserveRateChanged")
          .withArgs(f.cooperativeId, MAX_RESERVE, 0n);
        expect((await f.registry.getCooperative(f.cooperativeId)).reserveBps).to.equal(0n);
      });
    });

    context("when the rate is above 5000 bps", function () {
      it("reverts with CooperativeRegistryReserveTooHigh", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.coopAdmin).setReserveRate(f.cooperativeId, 5_001n))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryReserveTooHigh")
            .withArgs(5_001n, MAX_RESERVE);
        });
      });
    });

    context("when the caller is not the cooperative's admin", function () {
      for (const who of ["registrar", "alice", "deployer", "outsider"] as const) {
        it(`reverts with CooperativeRegistryNotCooperativeAdmin for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, async () => {
            await expect(f.registry.connect(f[who]).setReserveRate(f.cooperativeId, 0n))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotCooperativeAdmin")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }
    });

    context("when the cooperative is unknown", function () {
      it("reverts with CooperativeRegistryUnknownCooperative", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.coopAdmin).setReserveRate(UNKNOWN, 0n))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryUnknownCooperative")
            .withArgs(UNKNOWN);
        });
      });
    });
  });

  describe("addMember", function () {
    context("when the admin adds a new member", function () {
      it("emits MemberAdded, counts the member and makes it a member", async function () {
        const f = await loadFixture(fixture);
        const ref = referenceHash("buyer");
        expect(await f.registry.isMember(f.cooperativeId, f.buyer.address)).to.equal(false);
        await expect(f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, f.buyer.address, ref))
          .to.emit(f.registry, "MemberAdded")
          .withArgs(f.cooperativeId, f.buyer.address, 4n, ref);
        expect(await f.registry.indexOf(f.buyer.address)).to.equal(4n);
        expect(await f.registry.accountAt(4n)).to.equal(f.buyer.address);
        expect(await f.registry.accountCount()).to.equal(5n);
        expect(await f.registry.isMember(f.cooperativeId, f.buyer.address)).to.equal(true);
        expect((await f.registry.getCooperative(f.cooperativeId)).memberCount).to.equal(5n);
      });

      it("keeps membership per cooperative", async function () {
        const f = await loadFixture(fixture);
        await register(f);
        expect(await f.registry.isMember(2n, f.alice.address)).to.equal(false);
        await expect(f.registry.connect(f.outsider).addMember(2n, f.alice.address, referenceHash("alice-2")))
          .to.emit(f.registry, "MemberAdded")
          .withArgs(2n, f.alice.address, 0n, referenceHash("alice-2"));
        expect(await f.registry.isMember(2n, f.alice.address)).to.equal(true);
        // One index per account, whatever the cooperative: bit 0 is set in both bitmaps.
        expect((await f.registry.memberWords(2n, [0n]))[0]).to.equal(1n);
        expect((await f.registry.memberWords(1n, [0n]))[0]).to.equal(0b1111n);
        expect(await f.registry.isMember(1n, f.alice.address)).to.equal(true);
        expect((await f.registry.getCooperative(2n)).memberCount).to.equal(1n);
        expect((await f.registry.getCooperative(1n)).memberCount).to.equal(4n);
      });

      it("may add the admin itself as a member", async function () {
        const f = await loadFixture(fixture);
        await expect(
          f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, f.coopAdmin.address, referenceHash("a")),
        )
          .to.emit(f.registry, "MemberAdded")
          .withArgs(f.cooperativeId, f.coopAdmin.address, 4n, referenceHash("a"));
        expect(await f.registry.isMember(f.cooperativeId, f.coopAdmin.address)).to.equal(true);
      });
    });

    context("when the account is already a member", function () {
      it("reverts with CooperativeRegistryAlreadyMember", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(
            f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, f.alice.address, referenceHash("again")),
          )
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryAlreadyMember")
            .withArgs(f.cooperativeId, f.alice.address);
        });
      });
    });

    context("when the member is the zero address", function () {
      it("reverts with CooperativeRegistryZeroAddress", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(
            f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, ethers.ZeroAddress, referenceHash("zero")),
          ).to.be.revertedWithCustomError(f.registry, "CooperativeRegistryZeroAddress");
        });
        expect(await f.registry.isMember(f.cooperativeId, ethers.ZeroAddress)).to.equal(false);
      });
    });

    context("when the reference hash is zero", function () {
      it("reverts with CooperativeRegistryEmptyReference", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(
            f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, f.buyer.address, ethers.ZeroHash),
          ).to.be.revertedWithCustomError(f.registry, "CooperativeRegistryEmptyReference");
        });
      });
    });

    context("when the caller is not the cooperative's admin", function () {
      for (const who of ["registrar", "alice", "deployer", "outsider"] as const) {
        it(`reverts with CooperativeRegistryNotCooperativeAdmin for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, async () => {
            await expect(f.registry.connect(f[who]).addMember(f.cooperativeId, f.buyer.address, referenceHash("b")))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotCooperativeAdmin")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }
    });

    context("when the cooperative is unknown", function () {
      it("reverts with CooperativeRegistryUnknownCooperative", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.coopAdmin).addMember(UNKNOWN, f.buyer.address, referenceHash("b")))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryUnknownCooperative")
            .withArgs(UNKNOWN);
        });
        expect(await f.registry.isMember(UNKNOWN, f.buyer.address)).to.equal(false);
      });
    });
  });

  describe("removeMember", function () {
    context("when the admin removes a member", function () {
      it("emits MemberRemoved, uncounts the member and ends its membership", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.bob.address))
          .to.emit(f.registry, "MemberRemoved")
          .withArgs(f.cooperativeId, f.bob.address);
        expect(await f.registry.isMember(f.cooperativeId, f.bob.address)).to.equal(false);
        expect(await f.registry.canActFor(f.cooperativeId, f.bob.address)).to.equal(false);
        expect((await f.registry.getCooperative(f.cooperativeId)).memberCount).to.equal(3n);
        expect(await f.registry.isMember(f.cooperativeId, f.alice.address)).to.equal(true);
      });

      it("lets the member be added again", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.bob.address);
        await expect(f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, f.bob.address, referenceHash("bob-2")))
          .to.emit(f.registry, "MemberAdded")
          .withArgs(f.cooperativeId, f.bob.address, 1n, referenceHash("bob-2"));
        expect(await f.registry.isMember(f.cooperativeId, f.bob.address)).to.equal(true);
        // Back with the same index, which no one else was given.
        expect(await f.registry.indexOf(f.bob.address)).to.equal(1n);
        expect(await f.registry.accountCount()).to.equal(4n);
        expect((await f.registry.memberWords(f.cooperativeId, [0n]))[0]).to.equal(0b1111n);
        expect((await f.registry.getCooperative(f.cooperativeId)).memberCount).to.equal(4n);
      });
    });

    context("when the account is not a member", function () {
      it("reverts with CooperativeRegistryNotMember", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.outsider.address))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotMember")
            .withArgs(f.cooperativeId, f.outsider.address);
        });
      });

      it("reverts when the member is removed twice", async function () {
        const f = await loadFixture(fixture);
        await f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.bob.address);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.coopAdmin).removeMember(f.cooperativeId, f.bob.address))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotMember")
            .withArgs(f.cooperativeId, f.bob.address);
        });
      });
    });

    context("when the caller is not the cooperative's admin", function () {
      for (const who of ["registrar", "alice", "bob", "deployer", "outsider"] as const) {
        it(`reverts with CooperativeRegistryNotCooperativeAdmin for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          await expectUnchanged(f, async () => {
            await expect(f.registry.connect(f[who]).removeMember(f.cooperativeId, f.bob.address))
              .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryNotCooperativeAdmin")
              .withArgs(f.cooperativeId, f[who].address);
          });
        });
      }
    });

    context("when the cooperative is unknown", function () {
      it("reverts with CooperativeRegistryUnknownCooperative", async function () {
        const f = await loadFixture(fixture);
        await expectUnchanged(f, async () => {
          await expect(f.registry.connect(f.coopAdmin).removeMember(UNKNOWN, f.bob.address))
            .to.be.revertedWithCustomError(f.registry, "CooperativeRegistryUnknownCooperative")
            .withArgs(UNKNOWN);
        });
      });
    });
  });

  describe("views", function () {
    describe("isMember", function () {
      it("is true for members only", async function () {
        const { registry, cooperativeId, alice, bob, carol, dave, coopAdmin, outsider } = await loadFixture(fixture);
        for (const m of [alice, bob, carol, dave])
          expect(await registry.isMember(cooperativeId, m.address)).to.equal(true);
        expect(await registry.isMember(cooperativeId, coopAdmin.address)).to.equal(false);
        expect(await registry.isMember(cooperativeId, outsider.address)).to.equal(false);
        expect(await registry.isMember(UNKNOWN, alice.address)).to.equal(false);
      });
    });

    describe("isCooperativeAdmin", function () {
      it("is true for the admin only", async function () {
        const { registry, cooperativeId, coopAdmin, alice, registrar } = await loadFixture(fixture);
        expect(await registry.isCooperativeAdmin(cooperativeId, coopAdmin.address)).to.equal(true);
        expect(await registry.isCooperativeAdmin(cooperativeId, alice.address)).to.equal(false);
        expect(await registry.isCooperativeAdmin(cooperativeId, registrar.address)).to.equal(false);
        expect(await registry.isCooperativeAdmin(UNKNOWN, coopAdmin.address)).to.equal(false);
      });

      it("is false for the zero address on an unknown cooperative (whose admin slot is zero)", async function () {
        const { registry } = await loadFixture(fixture);
        expect(await registry.isCooperativeAdmin(UNKNOWN, ethers.ZeroAddress)).to.equal(false);
        expect(await registry.isCooperativeAdmin(1n, ethers.ZeroAddress)).to.equal(false);
      });
    });

    describe("canActFor", function () {
      it("is true for the admin and the members, false for others", async function () {
        const { registry, cooperativeId, coopAdmin, alice, dave, outsider, registrar, certifier } =
          await loadFixture(fixture);
        expect(await registry.canActFor(cooperativeId, coopAdmin.address)).to.equal(true);
        expect(await registry.canActFor(cooperativeId, alice.address)).to.equal(true);
        expect(await registry.canActFor(cooperativeId, dave.address)).to.equal(true);
        expect(await registry.canActFor(cooperativeId, outsider.address)).to.equal(false);
        expect(await registry.canActFor(cooperativeId, registrar.address)).to.equal(false);
        expect(await registry.canActFor(cooperativeId, certifier.address)).to.equal(false);
        expect(await registry.canActFor(cooperativeId, ethers.ZeroAddress)).to.equal(false);
      });

      it("reverts with CooperativeRegistryUnknownCooperative for an unknown cooperative", async function () {
        const { registry, alice } = await loadFixture(fixture);
        await expect(registry.canActFor(UNKNOWN, alice.address))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryUnknownCooperative")
          .withArgs(UNKNOWN);
        await expect(registry.canActFor(UNKNOWN, ethers.ZeroAddress))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryUnknownCooperative")
          .withArgs(UNKNOWN);
      });
    });

    describe("account indices and the members bitmap", function () {
      it("gives indices 0, 1, 2… in joining order and maps them both ways", async function () {
        const { registry, alice, bob, carol, dave } = await loadFixture(fixture);
        for (const [i, m] of [alice, bob, carol, dave].entries()) {
          expect(await registry.indexOf(m.address)).to.equal(BigInt(i));
          expect(await registry.accountAt(BigInt(i))).to.equal(m.address);
        }
        expect(await registry.accountCount()).to.equal(4n);
        expect(await registry.accountAt(4n)).to.equal(ethers.ZeroAddress);
      });

      it("reverts with CooperativeRegistryNoIndex for an account that never joined", async function () {
        const { registry, outsider } = await loadFixture(fixture);
        await expect(registry.indexOf(outsider.address))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryNoIndex")
          .withArgs(outsider.address);
      });

      it("reads the payees of packed contributor words (zero for an index not given)", async function () {
        const { registry, alice, carol } = await loadFixture(fixture);
        const word = (index: bigint, weight: bigint) => (index << 64n) | weight;
        expect(await registry.payeesOf([word(0n, 5n), word(2n, 1n), word(9n, 1n)])).to.deep.equal([
          BigInt(alice.address),
          BigInt(carol.address),
          0n,
        ]);
        expect(await registry.payeesOf([])).to.deep.equal([]);
        expect(await registry.payeeAt(9n)).to.deep.equal([ethers.ZeroAddress, 0n]);
      });

      it("refuses a payout route for an account that never joined, even from the escrow", async function () {
        const { registry, outsider, alice, deployer: admin } = await loadFixture(fixture);
        await registry.connect(admin).grantRole(await registry.DRAWER_ROLE(), admin.address);
        await expect(registry.connect(admin).setPayoutRoute(outsider.address, 1n))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryNoIndex")
          .withArgs(outsider.address);
        await registry.connect(admin).setPayoutRoute(alice.address, 1n);
        expect(await registry.payeeAt(0n)).to.deep.equal([alice.address, 1n]);
      });

      it("sets a member's bit when she joins and clears it when she leaves", async function () {
        const { registry, cooperativeId, coopAdmin, carol } = await loadFixture(fixture);
        expect(await registry.memberWords(cooperativeId, [0n, 1n, 0n])).to.deep.equal([0b1111n, 0n, 0b1111n]);
        await registry.connect(coopAdmin).removeMember(cooperativeId, carol.address);
        expect(await registry.memberWords(cooperativeId, [0n])).to.deep.equal([0b1011n]);
        expect(await registry.memberWords(cooperativeId, [])).to.deep.equal([]);
        expect(await registry.memberWords(99n, [0n])).to.deep.equal([0n]);
      });
    });

    describe("getCooperative / adminAndReserve", function () {
      it("revert with CooperativeRegistryUnknownCooperative for an unknown id", async function () {
        const { registry } = await loadFixture(fixture);
        await expect(registry.getCooperative(UNKNOWN))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryUnknownCooperative")
          .withArgs(UNKNOWN);
        await expect(registry.adminAndReserve(2n))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryUnknownCooperative")
          .withArgs(2n);
      });
    });
  });

  describe("platform roles (AccessControlDefaultAdminRules)", function () {
    context("when the platform admin grants a role", function () {
      it("emits RoleGranted and the grantee can use it", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.deployer).grantRole(f.roles.registrar, f.dave.address))
          .to.emit(f.registry, "RoleGranted")
          .withArgs(f.roles.registrar, f.dave.address, f.deployer.address);
        expect(await f.registry.hasRole(f.roles.registrar, f.dave.address)).to.equal(true);
        await expect(
          f.registry.connect(f.dave).registerCooperative(NAME, REGION, REG_NUMBER, f.dave.address, 0n, false),
        )
          .to.emit(f.registry, "CooperativeRegistered")
          .withArgs(2n, f.dave.address, NAME, REGION, REG_NUMBER, 0n, false);
      });

      it("emits RoleRevoked when it revokes one", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.deployer).revokeRole(f.roles.certifier, f.certifier.address))
          .to.emit(f.registry, "RoleRevoked")
          .withArgs(f.roles.certifier, f.certifier.address, f.deployer.address);
        expect(await f.registry.hasRole(f.roles.certifier, f.certifier.address)).to.equal(false);
      });
    });

    context("when someone else grants or revokes a role", function () {
      for (const who of ["registrar", "coopAdmin", "certifier", "outsider"] as const) {
        it(`reverts with AccessControlUnauthorizedAccount for the ${who}`, async function () {
          const f = await loadFixture(fixture);
          for (const role of [f.roles.registrar, f.roles.certifier, f.roles.arbiter, f.roles.drawer]) {
            await expect(f.registry.connect(f[who]).grantRole(role, f.dave.address))
              .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
              .withArgs(f[who].address, f.roles.defaultAdmin);
            expect(await f.registry.hasRole(role, f.dave.address)).to.equal(false);
          }
          await expect(f.registry.connect(f[who]).revokeRole(f.roles.arbiter, f.arbiter.address))
            .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
            .withArgs(f[who].address, f.roles.defaultAdmin);
          expect(await f.registry.hasRole(f.roles.arbiter, f.arbiter.address)).to.equal(true);
        });
      }
    });

    context("when the default admin role is granted directly", function () {
      it("reverts with AccessControlEnforcedDefaultAdminRules", async function () {
        const f = await loadFixture(fixture);
        await expect(
          f.registry.connect(f.deployer).grantRole(f.roles.defaultAdmin, f.dave.address),
        ).to.be.revertedWithCustomError(f.registry, "AccessControlEnforcedDefaultAdminRules");
        expect(await f.registry.hasRole(f.roles.defaultAdmin, f.dave.address)).to.equal(false);
        expect(await f.registry.defaultAdmin()).to.equal(f.deployer.address);
      });
    });

    describe("two-step default admin transfer", function () {
      it("has the deployment's 3-day delay", async function () {
        const { registry } = await loadFixture(fixture);
        expect(await registry.defaultAdminDelay()).to.equal(3n * BigInt(DAY));
      });

      it("hands the platform over only after the delay and on acceptance", async function () {
        const f = await loadFixture(fixture);
        const delay = await f.registry.defaultAdminDelay();
        await expect(f.registry.connect(f.deployer).beginDefaultAdminTransfer(f.dave.address)).to.emit(
          f.registry,
          "DefaultAdminTransferScheduled",
        );
        const schedule = BigInt(await time.latest()) + delay;
        const [pending, acceptSchedule] = await f.registry.pendingDefaultAdmin();
        expect(pending).to.equal(f.dave.address);
        expect(acceptSchedule).to.equal(schedule);

        await expect(f.registry.connect(f.dave).acceptDefaultAdminTransfer())
          .to.be.revertedWithCustomError(f.registry, "AccessControlEnforcedDefaultAdminDelay")
          .withArgs(schedule);
        expect(await f.registry.defaultAdmin()).to.equal(f.deployer.address);

        await time.increaseTo(schedule + 1n);
        await expect(f.registry.connect(f.outsider).acceptDefaultAdminTransfer())
          .to.be.revertedWithCustomError(f.registry, "AccessControlInvalidDefaultAdmin")
          .withArgs(f.outsider.address);

        await expect(f.registry.connect(f.dave).acceptDefaultAdminTransfer())
          .to.emit(f.registry, "RoleGranted")
          .withArgs(f.roles.defaultAdmin, f.dave.address, f.dave.address);
        expect(await f.registry.defaultAdmin()).to.equal(f.dave.address);
        expect(await f.registry.hasRole(f.roles.defaultAdmin, f.deployer.address)).to.equal(false);

        await expect(f.registry.connect(f.deployer).grantRole(f.roles.registrar, f.outsider.address))
          .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
          .withArgs(f.deployer.address, f.roles.defaultAdmin);
        await expect(f.registry.connect(f.dave).grantRole(f.roles.registrar, f.outsider.address))
          .to.emit(f.registry, "RoleGranted")
          .withArgs(f.roles.registrar, f.outsider.address, f.dave.address);
      });

      it("can only be started by the platform admin", async function () {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f.registrar).beginDefaultAdminTransfer(f.registrar.address))
          .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
          .withArgs(f.registrar.address, f.roles.defaultAdmin);
        const [pending, schedule] = await f.registry.pendingDefaultAdmin();
        expect(pending).to.equal(ethers.ZeroAddress);
        expect(schedule).to.equal(0n);
      });
    });
  });
});
