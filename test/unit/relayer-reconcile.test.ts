/**
 * The relayer's reconciliation rules alone (server/relayer/nonces.ts nonceGaps, progress.ts
 * stalled): which relayer nonces are gaps to fill or to give back, and when a relayer is stalled.
 * No chain: part of `npm run test:unit`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { nonceGaps } from "../../server/relayer/nonces";
import { stalled } from "../../server/relayer/progress";

describe("relayer reconciliation rules", function () {
  describe("nonceGaps", function () {
    it("finds nothing when the node's pending count reaches the allocator", function () {
      expect(nonceGaps(119, [], 119)).to.deep.equal({ fill: [] });
      expect(nonceGaps(120, [118], 119)).to.deep.equal({ fill: [] });
      expect(nonceGaps(5, [], undefined)).to.deep.equal({ fill: [] });
    });

    it("gives back nonces handed out above every open transaction (a reorganisation took their transactions)", function () {
      expect(nonceGaps(115, [], 119)).to.deep.equal({ fill: [], lowerTo: 115 });
      expect(nonceGaps(115, [115, 116], 119)).to.deep.equal({ fill: [], lowerTo: 117 });
    });

    it("fills the nonces below an open transaction that nothing holds", function () {
      expect(nonceGaps(115, [117, 118], 119)).to.deep.equal({ fill: [115, 116] });
      expect(nonceGaps(115, [116, 118], 120)).to.deep.equal({ fill: [115, 117], lowerTo: 119 });
    });

    it("never fills or gives back a nonce an open transaction holds, nor one below the pending count", function () {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 50 }),
          fc.uniqueArray(fc.integer({ min: 0, max: 80 }), { maxLength: 10 }),
          fc.integer({ min: 0, max: 100 }),
          (pending, open, next) => {
            const { fill, lowerTo } = nonceGaps(pending, open, next);
            for (const n of fill) {
              expect(open).not.to.include(n);
              expect(n).to.be.at.least(pending);
              expect(n).to.be.below(Math.max(...open));
            }
            if (lowerTo !== undefined) {
              expect(lowerTo).to.be.below(next);
              expect(lowerTo).to.be.at.least(pending);
              for (const n of open) expect(lowerTo).to.be.above(n);
            }
          },
        ),
      );
    });
  });

  describe("stalled", function () {
    const base = { now: 100_000, stallAfterMs: 10_000, head: 50 };

    it("is not stalled with nothing pending, or a request younger than the bound", function () {
      expect(stalled({ ...base, oldestPending: null, lastProgress: { at: 0, head: 10 } })).to.equal(false);
      expect(stalled({ ...base, oldestPending: 95_000, lastProgress: { at: 0, head: 10 } })).to.equal(false);
    });

    it("is not stalled when something settled lately, or the chain has not moved (it does not mine)", function () {
      expect(stalled({ ...base, oldestPending: 0, lastProgress: { at: 95_000, head: 10 } })).to.equal(false);
      expect(stalled({ ...base, oldestPending: 0, lastProgress: { at: 0, head: 50 } })).to.equal(false);
    });

    it("is stalled when old requests wait, nothing settles and the head moved (forward or back)", function () {
      expect(stalled({ ...base, oldestPending: 0, lastProgress: { at: 0, head: 10 } })).to.equal(true);
      expect(stalled({ ...base, oldestPending: 0, lastProgress: { at: 0, head: 60 } })).to.equal(true);
    });
  });
});
