/**
 * The relayer's admission rules (server/relayer/admission.ts), alone: request validation, the gas
 * choice against the simulation's estimate and the transaction cap, a signed request's deadline,
 * the daily budget's arithmetic. No chain, no database: part of `npm run test:unit`.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  budgetMessage,
  checkCommon,
  checkSignedRequest,
  checkedAddress,
  chooseGas,
  gasMargin,
  withinBudget,
} from "../../server/relayer/admission";
import { RelayRejectedError } from "../../server/relayer/errors";
import { DEADLINE_SLACK_SECONDS, TX_GAS_CAP, TX_OVERHEAD, requestCost } from "../../server/relayer/limits";

const A = "0x1111111111111111111111111111111111111111";
const B = "0x2222222222222222222222222222222222222222";
const NOW = 1_700_000_000;
const SIGNATURE = "0x" + "ab".repeat(65);

/** The rejection code `fn` throws (fails the test when it throws something else or nothing). */
function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(RelayRejectedError);
    return (err as RelayRejectedError).code;
  }
  expect.fail("expected a RelayRejectedError");
}

function signed(overrides: Record<string, unknown> = {}) {
  return {
    from: A,
    to: B,
    value: 0n,
    gas: 100_000n,
    deadline: NOW + 3600,
    data: "0x1234",
    signature: SIGNATURE,
    ...overrides,
  };
}

describe("relayer admission", function () {
  describe("checkedAddress", function () {
    it("checksums an address", function () {
      expect(checkedAddress(A, "from")).to.equal(A);
      expect(checkedAddress("0xabcdefabcdefabcdefabcdefabcdefabcdefabcd", "to")).to.equal(
        "0xABcdEFABcdEFabcdEfAbCdefabcdeFABcDEFabCD",
      );
    });
    it("rejects what is not an address, naming the field", function () {
      expect(() => checkedAddress("0x1234", "to")).to.throw(RelayRejectedError, "to is not an address");
      expect(rejection(() => checkedAddress(undefined, "from"))).to.equal("invalid_request");
    });
  });

  describe("checkCommon", function () {
    it("accepts a user, hex bytes and a non-negative value", function () {
      expect(() => checkCommon("u1", "0x", 0n)).not.to.throw();
      expect(() => checkCommon("u1", "0xdeadbeef", 5n)).not.to.throw();
    });
    it("rejects a missing user, odd or non-hex data, a negative value", function () {
      expect(() => checkCommon("", "0x", 0n)).to.throw(RelayRejectedError, "userId is required");
      expect(() => checkCommon("u1", "0x123", 0n)).to.throw(RelayRejectedError, "data is not hex bytes");
      expect(() => checkCommon("u1", "deadbeef", 0n)).to.throw(RelayRejectedError, "data is not hex bytes");
      expect(() => checkCommon("u1", "0xzz", 0n)).to.throw(RelayRejectedError, "data is not hex bytes");
      expect(() => checkCommon("u1", "0x", -1n)).to.throw(RelayRejectedError, "value is negative");
    });
  });

  describe("checkSignedRequest", function () {
    it("returns the checked fields as integers", function () {
      const fields = checkSignedRequest("u1", signed({ from: A.toLowerCase(), deadline: BigInt(NOW + 600) }), NOW);
      expect(fields).to.deep.equal({ from: A, to: B, value: 0n, gas: 100_000n, deadline: BigInt(NOW + 600) });
    });
    it("rejects non-integer amounts, a short signature, a deadline beyond uint48", function () {
      expect(() => checkSignedRequest("u1", signed({ gas: "lots" }), NOW)).to.throw(
        RelayRejectedError,
        "value, gas and deadline must be integers",
      );
      expect(() => checkSignedRequest("u1", signed({ signature: "0x1234" }), NOW)).to.throw(
        RelayRejectedError,
        "signature is not 65 bytes",
      );
      expect(() => checkSignedRequest("u1", signed({ deadline: 1n << 48n }), NOW)).to.throw(
        RelayRejectedError,
        "deadline does not fit uint48",
      );
    });
    it("rejects a deadline past or within the slack as expired, and accepts one just beyond", function () {
      expect(rejection(() => checkSignedRequest("u1", signed({ deadline: NOW - 1 }), NOW))).to.equal("expired");
      const edge = NOW + DEADLINE_SLACK_SECONDS;
      expect(rejection(() => checkSignedRequest("u1", signed({ deadline: edge }), NOW))).to.equal("expired");
      expect(checkSignedRequest("u1", signed({ deadline: edge + 1 }), NOW).deadline).to.equal(BigInt(edge + 1));
    });
    it("reports the address before anything else", function () {
      const bad = signed({ from: "nobody", gas: "lots", signature: "0x" });
      expect(() => checkSignedRequest("u1", bad, NOW)).to.throw(RelayRejectedError, "from is not an address");
    });
  });

  describe("chooseGas", function () {
    it("adds 25% to the estimate when no gas is given", function () {
      expect(chooseGas(undefined, 100_000n, "0x")).to.equal(125_000n);
      expect(chooseGas(undefined, 3n, "0x")).to.equal(3n);
    });
    it("takes a given gas from the estimate to the estimate plus its margin", function () {
      expect(chooseGas(80_000n, 80_000n, "0x")).to.equal(80_000n);
      expect(chooseGas(180_000n, 80_000n, "0x")).to.equal(180_000n); // +100k: the minimum margin
      expect(rejection(() => chooseGas(180_001n, 80_000n, "0x"))).to.equal("gas_too_high");
      expect(rejection(() => chooseGas(79_999n, 80_000n, "0x"))).to.equal("gas_too_low");
      expect(chooseGas(3_000_000n, 2_000_000n, "0x")).to.equal(3_000_000n); // +50% of a large estimate
      expect(rejection(() => chooseGas(3_000_001n, 2_000_000n, "0x"))).to.equal("gas_too_high");
    });
    it("the margin is half the estimate, at least 100k", function () {
      expect(gasMargin(0n)).to.equal(100_000n);
      expect(gasMargin(200_000n)).to.equal(100_000n);
      expect(gasMargin(200_002n)).to.equal(100_001n);
    });
    it("refuses a gas that does not fit one transaction with the batch overhead", function () {
      const data = "0x" + "00".repeat(100);
      // The largest gas that fits: TX_OVERHEAD + requestCost(gas) <= TX_GAS_CAP.
      let fits = TX_GAS_CAP;
      while (TX_OVERHEAD + requestCost(fits, 100) > TX_GAS_CAP) fits -= 1_000n;
      while (TX_OVERHEAD + requestCost(fits + 1n, 100) <= TX_GAS_CAP) fits += 1n;
      expect(chooseGas(fits, fits, data)).to.equal(fits);
      expect(() => chooseGas(fits + 1n, fits + 1n, data)).to.throw(
        RelayRejectedError,
        "does not fit in one transaction",
      );
    });
    it("never returns less than the estimate nor more than the estimate plus its margin (property)", function () {
      fc.assert(
        fc.property(fc.bigInt(21_000n, 10_000_000n), fc.option(fc.bigInt(0n, 20_000_000n)), (estimate, given) => {
          let gas: bigint;
          try {
            gas = chooseGas(given ?? undefined, estimate, "0x");
          } catch (err) {
            return err instanceof RelayRejectedError && ["gas_too_low", "gas_too_high"].includes(err.code);
          }
          return gas >= estimate && gas <= estimate + gasMargin(estimate);
        }),
      );
    });
  });

  describe("the daily budget", function () {
    it("admits gas up to the budget exactly, not beyond", function () {
      expect(withinBudget(900n, 100n, 1000n)).to.be.true;
      expect(withinBudget(901n, 100n, 1000n)).to.be.false;
    });
    it("with the gas not known yet, needs at least one gas left", function () {
      expect(withinBudget(999n, 0n, 1000n)).to.be.true;
      expect(withinBudget(1000n, 0n, 1000n)).to.be.false;
    });
    it("tells what was used and, when known, what the request needs", function () {
      expect(budgetMessage(1000n, 0n, 1000n)).to.equal(
        "your gas for today is spent: 1000 of 1000 used; it renews at 00:00 UTC",
      );
      expect(budgetMessage(950n, 100n, 1000n)).to.equal(
        "your gas for today is spent: 950 of 1000 used, this request needs 100; it renews at 00:00 UTC",
      );
    });
  });
});
