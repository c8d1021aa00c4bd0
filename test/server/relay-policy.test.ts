/**
 * The relayer's allow-list (server/relayer/policy.ts), alone: no chain, no database. Which calls
 * each role may have the relayer pay for, and every way a call is refused.
 */
import { expect } from "chai";
import { FunctionFragment, Interface, Wallet, ZeroHash, id as hashText } from "ethers";
import {
  RELAY_ALLOW_LIST,
  RELAY_CONTRACTS,
  RelayRefusedError,
  allowedCalls,
  createRelayPolicy,
  secondsUntilNextUtcDay,
  utcDayStart,
  type RelayContract,
} from "../../server/relayer";
import { ROLES } from "../../server/custody/users";
import {
  BatchRegistry__factory,
  CooperativeRegistry__factory,
  Forwarder__factory,
  PayoutLedger__factory,
  SaleEscrow__factory,
} from "../../typechain-types";

const addresses: Record<RelayContract | "Forwarder", { address: string }> = {
  CooperativeRegistry: { address: Wallet.createRandom().address },
  BatchRegistry: { address: Wallet.createRandom().address },
  SaleEscrow: { address: Wallet.createRandom().address },
  PayoutLedger: { address: Wallet.createRandom().address },
  Forwarder: { address: Wallet.createRandom().address },
};
const ifaces: Record<RelayContract, Interface> = {
  CooperativeRegistry: CooperativeRegistry__factory.createInterface(),
  BatchRegistry: BatchRegistry__factory.createInterface(),
  SaleEscrow: SaleEscrow__factory.createInterface(),
  PayoutLedger: PayoutLedger__factory.createInterface(),
};
const policy = createRelayPolicy(addresses);
/** Every function of the three contracts, selectors computed once (ethers hashes on each access). */
const FUNCTIONS = RELAY_CONTRACTS.flatMap((contract) =>
  ifaces[contract].fragments
    .filter((f): f is FunctionFragment => f instanceof FunctionFragment)
    .map((f) => ({ contract, name: f.name, selector: f.selector, readOnly: f.constant })),
);

/** The reason a call is refused, or "allowed". */
function verdict(role: string, to: string, data: string, value = 0n): string {
  try {
    policy.check(role, to, data, value);
    return "allowed";
  } catch (err) {
    expect(err).to.be.instanceOf(RelayRefusedError);
    expect((err as RelayRefusedError).code).to.equal("relay_not_allowed");
    expect((err as RelayRefusedError).retryAfterSeconds).to.equal(undefined);
    return (err as RelayRefusedError).reason;
  }
}

/** Any calldata for `fn`: the selector is what the policy reads. */
const call = (contract: RelayContract, fn: string) => ifaces[contract].getFunction(fn)!.selector + "00".repeat(64);

const allowedNames = (role: string) =>
  allowedCalls(role)
    .map((c) => `${c.contract}.${c.function}`)
    .sort();

describe("relay policy (allow-list)", function () {
  it("gives every role a line, and exactly these functions", function () {
    expect(Object.keys(RELAY_ALLOW_LIST).sort()).to.deep.equal([...ROLES].sort());
    const batchWork = ["registerBatch", "recordEvent", "splitBatch", "mergeBatches"].map((f) => `BatchRegistry.${f}`);
    const expected: Record<string, string[]> = {
      platform_admin: ["SaleEscrow.release", "SaleEscrow.withdraw"],
      registrar: [
        "CooperativeRegistry.registerCooperative",
        "CooperativeRegistry.setCooperativeAdmin",
        "SaleEscrow.release",
      ],
      coop_admin: [
        "CooperativeRegistry.addMember",
        "CooperativeRegistry.removeMember",
        "CooperativeRegistry.setReserveRate",
        "CooperativeRegistry.setCooperativeAdmin",
        ...batchWork,
        ...[
          "createSale",
          "markShipped",
          "cancel",
          "release",
          "claim",
          "claimFor",
          "withdrawReserve",
          "setPayoutAccount",
          "closeBatch",
        ].map((f) => `SaleEscrow.${f}`),
        "PayoutLedger.recordPayouts",
      ],
      member: [
        ...batchWork,
        "SaleEscrow.claim",
        "SaleEscrow.claimFor",
        "SaleEscrow.release",
        "SaleEscrow.setPaidThroughCooperative",
        "PayoutLedger.confirm",
        "PayoutLedger.contest",
      ],
      buyer: ["confirmDelivery", "openDispute", "cancel", "release", "withdraw"].map((f) => `SaleEscrow.${f}`),
      certifier: ["BatchRegistry.certify", "BatchRegistry.revokeCertification", "SaleEscrow.release"],
      arbiter: ["SaleEscrow.resolveDispute", "SaleEscrow.release"],
      auditor: [],
    };
    for (const role of ROLES) expect(allowedNames(role), role).to.deep.equal(expected[role].sort());
  });

  it("derives the selectors from the ABIs", function () {
    for (const role of ROLES) {
      for (const c of allowedCalls(role)) {
        const fn = ifaces[c.contract].getFunction(c.function)!;
        expect(c.selector, `${c.contract}.${c.function}`).to.equal(fn.selector);
        expect(fn.stateMutability).to.equal("nonpayable");
      }
    }
    // One known value, computed independently: keccak256("release(uint256)")[0..4].
    expect(allowedCalls("buyer").find((c) => c.function === "release")!.selector).to.equal(
      hashText("release(uint256)").slice(0, 10),
    );
  });

  it("allows each role its functions and nothing else of CoopTrace's contracts", function () {
    for (const role of ROLES) {
      const mine = new Set(allowedNames(role));
      for (const f of FUNCTIONS) {
        const expected = f.readOnly
          ? "view_function"
          : mine.has(`${f.contract}.${f.name}`)
            ? "allowed"
            : "function_not_allowed";
        expect(
          verdict(role, addresses[f.contract].address, f.selector + "00".repeat(32)),
          `${role} ${f.contract}.${f.name}`,
        ).to.equal(expected);
      }
    }
  });

  it("never allows a view or pure function, to any role", function () {
    const reads = FUNCTIONS.filter((f) => f.readOnly);
    expect(reads.map((r) => `${r.contract}.${r.name}`)).to.include.members([
      "SaleEscrow.saleCount",
      "SaleEscrow.getSale",
      "BatchRegistry.getBatch",
      "CooperativeRegistry.isMember",
    ]);
    for (const role of ROLES) {
      for (const f of reads) {
        expect(verdict(role, addresses[f.contract].address, f.selector), `${role} ${f.contract}.${f.name}`).to.equal(
          "view_function",
        );
      }
    }
  });

  it("refuses any other address, the forwarder included, whatever the selector", function () {
    const someoneElse = Wallet.createRandom().address;
    const release = call("SaleEscrow", "release");
    expect(verdict("buyer", someoneElse, release)).to.equal("foreign_contract");
    // A contract of the caller's own that answers isTrustedForwarder() = true is just another address.
    expect(verdict("coop_admin", someoneElse, hashText("burn()").slice(0, 10))).to.equal("foreign_contract");
    const forwarder = Forwarder__factory.createInterface();
    expect(
      verdict("member", addresses.Forwarder.address, forwarder.getFunction("executeBatch")!.selector + "00".repeat(64)),
    ).to.equal("foreign_contract");
    expect(verdict("member", "not an address", release)).to.equal("foreign_contract");
    // Addresses compare by value, whatever their case.
    expect(verdict("buyer", addresses.SaleEscrow.address.toLowerCase(), release)).to.equal("allowed");
  });

  it("refuses a call without a selector, with ether, or from an unknown role", function () {
    const escrow = addresses.SaleEscrow.address;
    expect(verdict("buyer", escrow, "0x")).to.equal("no_function");
    expect(verdict("buyer", escrow, "0x1234")).to.equal("no_function");
    expect(verdict("buyer", escrow, "not hex")).to.equal("no_function");
    expect(verdict("buyer", escrow, call("SaleEscrow", "release"), 1n)).to.equal("value_not_allowed");
    expect(verdict("superuser", escrow, call("SaleEscrow", "release"))).to.equal("unknown_role");
    // An unknown selector on our contract (the fallback): not on anyone's list.
    expect(verdict("coop_admin", escrow, "0xdeadbeef")).to.equal("function_not_allowed");
  });

  it("refuses what the drain attempt and the other roles' writes would need", function () {
    const escrow = addresses.SaleEscrow.address;
    const batches = addresses.BatchRegistry.address;
    const registry = addresses.CooperativeRegistry.address;
    const resolve = ifaces.SaleEscrow.encodeFunctionData("resolveDispute", [1n, 5000, ZeroHash]);
    expect(verdict("buyer", escrow, resolve)).to.equal("function_not_allowed");
    expect(verdict("arbiter", escrow, resolve)).to.equal("allowed");
    expect(verdict("buyer", escrow, call("SaleEscrow", "fund"))).to.equal("function_not_allowed");
    expect(verdict("buyer", escrow, call("SaleEscrow", "setFeeBps"))).to.equal("function_not_allowed");
    expect(verdict("buyer", batches, call("BatchRegistry", "recordEvent"))).to.equal("function_not_allowed");
    expect(verdict("member", registry, call("CooperativeRegistry", "addMember"))).to.equal("function_not_allowed");
    expect(verdict("coop_admin", registry, call("CooperativeRegistry", "grantRole"))).to.equal("function_not_allowed");
    expect(verdict("member", batches, call("BatchRegistry", "drawForSale"))).to.equal("function_not_allowed");
    expect(verdict("auditor", escrow, call("SaleEscrow", "release"))).to.equal("function_not_allowed");
  });

  it("counts budget days in UTC and says how long until the next", function () {
    const t = Date.UTC(2026, 4, 17, 23, 59, 30, 250);
    expect(utcDayStart(t)).to.equal(Date.UTC(2026, 4, 17));
    expect(secondsUntilNextUtcDay(t)).to.equal(30);
    expect(utcDayStart(Date.UTC(2026, 4, 18))).to.equal(Date.UTC(2026, 4, 18));
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 4, 18))).to.equal(86_400);
    expect(secondsUntilNextUtcDay(Date.UTC(2026, 4, 18) - 1)).to.equal(1);
  });
});
