/**
 * The relayer's price calculator (server/relayer/pricing.ts) and replacement policy
 * (server/relayer/replacement.ts), alone: the fee bump, the fees of a first version and of a
 * replacement, what to do with an open transaction on each round, what a broadcast error means.
 * No chain: part of `npm run test:unit`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { bump, initialFees, replacementFees } from "../../server/relayer/pricing";
import {
  NONCE_USED_GRACE_MS,
  POOL_CHECK_MS,
  broadcastFailure,
  nonceUsedStep,
  openTxStep,
  shouldLookInPool,
} from "../../server/relayer/replacement";

const GWEI = 10n ** 9n;

describe("relayer pricing", function () {
  it("bumps by 12.5%, rounded up, and by at least 1 wei", function () {
    expect(bump(1000n)).to.equal(1125n);
    expect(bump(1001n)).to.equal(1127n); // 1126.125 rounded up
    expect(bump(0n)).to.equal(1n);
    expect(bump(1n)).to.equal(2n);
    expect(bump(8n)).to.equal(9n);
  });

  it("a bump is always at least x × 1.125 and less than that + 1 (property)", function () {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 30n), (x) => {
        const up = bump(x);
        return up * 1000n >= x * 1125n && (up - 1n) * 1000n < x * 1125n;
      }),
    );
  });

  it("prices a first version with the node's EIP-1559 fees, or its gas price on a legacy chain", function () {
    expect(initialFees({ maxFeePerGas: 30n * GWEI, maxPriorityFeePerGas: GWEI, gasPrice: 20n * GWEI })).to.deep.equal({
      type: 2,
      maxFeePerGas: 30n * GWEI,
      maxPriorityFeePerGas: GWEI,
    });
    expect(initialFees({ maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: 20n * GWEI })).to.deep.equal({
      type: 0,
      gasPrice: 20n * GWEI,
    });
    expect(initialFees({ maxFeePerGas: 30n * GWEI, maxPriorityFeePerGas: null, gasPrice: null })).to.deep.equal({
      type: 0,
      gasPrice: 0n,
    });
  });

  it("replaces with the bumped fees, or the node's current ones when higher", function () {
    const prev = { type: 2, maxFeePerGas: 40n * GWEI, maxPriorityFeePerGas: 2n * GWEI, gasPrice: null };
    const calm = { maxFeePerGas: 30n * GWEI, maxPriorityFeePerGas: GWEI, gasPrice: null };
    expect(replacementFees(prev, calm)).to.deep.equal({
      type: 2,
      maxFeePerGas: 45n * GWEI,
      maxPriorityFeePerGas: 2_250_000_000n,
    });
    const rising = { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 5n * GWEI, gasPrice: null };
    expect(replacementFees(prev, rising)).to.deep.equal({
      type: 2,
      maxFeePerGas: 100n * GWEI,
      maxPriorityFeePerGas: 5n * GWEI,
    });
  });

  it("keeps maxFeePerGas at least the priority fee", function () {
    const prev = { type: 2, maxFeePerGas: GWEI, maxPriorityFeePerGas: GWEI, gasPrice: null };
    const fees = replacementFees(prev, { maxFeePerGas: GWEI, maxPriorityFeePerGas: 50n * GWEI, gasPrice: null });
    expect(fees).to.deep.equal({ type: 2, maxFeePerGas: 50n * GWEI, maxPriorityFeePerGas: 50n * GWEI });
  });

  it("replaces a legacy transaction with a legacy gas price", function () {
    const prev = { type: 0, maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: 8n * GWEI };
    expect(replacementFees(prev, { maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: GWEI })).to.deep.equal({
      type: 0,
      gasPrice: 9n * GWEI,
    });
  });

  it("every replacement outbids its predecessor by 12.5% on each field (property)", function () {
    const fee = fc.bigInt(0n, 10n ** 12n);
    fc.assert(
      fc.property(fee, fee, fee, fee, (maxFee, priority, nowMax, nowPriority) => {
        const next = replacementFees(
          { type: 2, maxFeePerGas: maxFee, maxPriorityFeePerGas: priority, gasPrice: null },
          { maxFeePerGas: nowMax, maxPriorityFeePerGas: nowPriority, gasPrice: null },
        );
        if (next.type !== 2) return false;
        return (
          next.maxFeePerGas >= bump(maxFee) &&
          next.maxPriorityFeePerGas >= bump(priority) &&
          next.maxFeePerGas >= next.maxPriorityFeePerGas &&
          next.maxFeePerGas >= nowMax &&
          next.maxPriorityFeePerGas >= nowPriority
        );
      }),
    );
  });
});

describe("relayer replacement policy", function () {
  const round = { receiptInHand: false, minedCount: 10, now: 100_000, replaceAfterMs: 30_000 };
  const pending = { nonce: 10, broadcast: 1, lastSentAt: 90_000 };

  it("settles a transaction whose receipt is in hand, whatever else holds", function () {
    expect(openTxStep({ ...pending, broadcast: 0 }, { ...round, receiptInHand: true })).to.equal("settle");
  });

  it("looks again at a transaction whose nonce the node counts as used without a receipt of ours", function () {
    expect(openTxStep({ ...pending, nonce: 9 }, round)).to.equal("nonce_used");
  });

  it("sends again a version the node never took", function () {
    expect(openTxStep({ ...pending, broadcast: 0 }, round)).to.equal("broadcast");
  });

  it("replaces a transaction not mined replaceAfterMs after its latest version, and not before", function () {
    expect(openTxStep({ ...pending, lastSentAt: 70_000 }, round)).to.equal("replace");
    expect(openTxStep({ ...pending, lastSentAt: 70_001 }, round)).to.equal("pending");
  });

  it("waits NONCE_USED_GRACE_MS of 'nonce used, no receipt' before resolving the requests", function () {
    expect(nonceUsedStep(undefined, 5_000)).to.equal("start");
    expect(nonceUsedStep(5_000, 5_000 + NONCE_USED_GRACE_MS - 1)).to.equal("wait");
    expect(nonceUsedStep(5_000, 5_000 + NONCE_USED_GRACE_MS)).to.equal("resolve");
  });

  it("looks for a pending transaction in the node's pool once it is POOL_CHECK_MS old, and at most that often", function () {
    const sent = 1_000_000;
    expect(shouldLookInPool(sent + POOL_CHECK_MS - 1, sent, undefined)).to.be.false;
    expect(shouldLookInPool(sent + POOL_CHECK_MS, sent, undefined)).to.be.true;
    expect(shouldLookInPool(sent + POOL_CHECK_MS + 500, sent, sent + POOL_CHECK_MS)).to.be.false;
    expect(shouldLookInPool(sent + 2 * POOL_CHECK_MS, sent, sent + POOL_CHECK_MS)).to.be.true;
  });

  describe("a failed broadcast", function () {
    const failure = { answered: true, code: "UNKNOWN_ERROR", message: "x", firstVersion: true };

    it("is retried when the node did not answer", function () {
      expect(broadcastFailure({ ...failure, answered: false, code: "TIMEOUT" })).to.equal("retry");
      expect(broadcastFailure({ ...failure, answered: false, code: undefined })).to.equal("retry");
    });

    it("counts as sent when the node already has the transaction", function () {
      for (const message of ["already known", "Transaction already imported", "known transaction: 0xab"]) {
        expect(broadcastFailure({ ...failure, message })).to.equal("accepted");
      }
    });

    it("keeps the transaction open when its nonce is used or it is underpriced, or for a later version", function () {
      expect(broadcastFailure({ ...failure, answered: false, code: "NONCE_EXPIRED" })).to.equal("kept");
      expect(broadcastFailure({ ...failure, code: "REPLACEMENT_UNDERPRICED" })).to.equal("kept");
      expect(broadcastFailure({ ...failure, code: "INSUFFICIENT_FUNDS", firstVersion: false })).to.equal("kept");
    });

    it("drops a first version refused for good (its nonce was not used)", function () {
      expect(broadcastFailure({ ...failure, answered: false, code: "INSUFFICIENT_FUNDS" })).to.equal("dropped");
      expect(broadcastFailure({ ...failure, message: "max fee per gas less than block base fee" })).to.equal("dropped");
    });
  });
});
