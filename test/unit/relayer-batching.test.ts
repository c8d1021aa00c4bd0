/**
 * Which queued requests go in the next executeBatch (server/relayer/batching.ts), alone: batch
 * size, the 2^24 gas cap of a transaction, per-signer nonce order, member-signed requests first and
 * those that can never run. No chain, no database: part of `npm run test:unit`.
 */
import { expect } from "chai";
import fc from "fast-check";
import { selectBatch, type QueuedRequest } from "../../server/relayer/batching";
import { DEADLINE_SLACK_SECONDS, TX_GAS_CAP, TX_OVERHEAD, requestCost } from "../../server/relayer/limits";

const NOW = 1_700_000_000;
const [ALICE, BOB, CAROL] = ["0xA11cE", "0xB0b", "0xCa201"];
let seq = 0;

function custodial(signer: string, gas = 100_000n, dataBytes = 4): QueuedRequest {
  return {
    id: `r${++seq}`,
    signer,
    custodial: 1,
    nonce: null,
    deadline: null,
    gas: gas.toString(),
    data: hex(dataBytes),
  };
}

function memberSigned(signer: string, nonce: number, deadline = NOW + 3600): QueuedRequest {
  return { id: `r${++seq}`, signer, custodial: 0, nonce, deadline, gas: "100000", data: hex(4) };
}

function hex(bytes: number): string {
  return "0x" + "ab".repeat(bytes);
}

function select(
  rows: QueuedRequest[],
  nonces: Record<string, number> = {},
  next: Record<string, number> = {},
  maxBatch = 20,
) {
  const signers = [...new Set(rows.map((r) => r.signer))];
  const chainNonces = new Map(signers.map((s) => [s, nonces[s] ?? 0]));
  const nextNonces = new Map(signers.map((s) => [s, next[s] ?? nonces[s] ?? 0]));
  return selectBatch({ rows, chainNonces, nextNonces, maxBatch, nowSec: NOW });
}

const picks = (plan: ReturnType<typeof select>) => plan.picked.map((p) => [p.row.id, p.nonce]);

describe("relayer batching", function () {
  it("takes queued requests in order, each signer's nonces one after the other from its next nonce", function () {
    const rows = [custodial(ALICE), custodial(BOB), custodial(ALICE), custodial(ALICE)];
    const plan = select(rows, { [ALICE]: 7, [BOB]: 0 }, { [ALICE]: 9 });
    expect(picks(plan)).to.deep.equal([
      [rows[0].id, 9],
      [rows[1].id, 0],
      [rows[2].id, 10],
      [rows[3].id, 11],
    ]);
    expect(plan.terminal).to.deep.equal([]);
  });

  it("stops at maxBatch", function () {
    const rows = Array.from({ length: 5 }, () => custodial(ALICE));
    expect(select(rows, {}, {}, 3).picked.map((p) => p.row.id)).to.deep.equal(rows.slice(0, 3).map((r) => r.id));
  });

  it("keeps the transaction within TX_GAS_CAP: the first request that does not fit ends the batch", function () {
    const rows = [custodial(ALICE, 5_000_000n), custodial(BOB, 5_000_000n), custodial(CAROL, 5_000_000n)];
    rows.push(custodial(ALICE, 5_000_000n), custodial(BOB, 21_000n)); // the 4th does not fit, the 5th would
    const plan = select(rows);
    expect(plan.picked.map((p) => p.row.id)).to.deep.equal(rows.slice(0, 3).map((r) => r.id));
    const cost = requestCost(5_000_000n, 4);
    expect(plan.gasLimit).to.equal(TX_OVERHEAD + 3n * cost);
    expect(plan.gasLimit + cost).to.be.greaterThan(TX_GAS_CAP);
    expect(TX_GAS_CAP).to.equal(2n ** 24n);
  });

  it("counts calldata in the gas limit", function () {
    const small = select([custodial(ALICE, 100_000n, 4)]).gasLimit;
    const large = select([custodial(ALICE, 100_000n, 1004)]).gasLimit;
    expect(large - small).to.equal(40n * 1000n);
  });

  it("sends a member-signed request at its own nonce, before the same signer's custodial ones", function () {
    const rows = [custodial(ALICE), memberSigned(ALICE, 4), custodial(BOB)];
    const plan = select(rows, { [ALICE]: 4, [BOB]: 2 });
    expect(picks(plan)).to.deep.equal([
      [rows[1].id, 4],
      [rows[2].id, 2],
    ]);
  });

  it("fails a member-signed request whose nonce was used, or whose deadline is too close", function () {
    const used = memberSigned(ALICE, 3);
    const expiring = memberSigned(BOB, 0, NOW + DEADLINE_SLACK_SECONDS);
    const fine = memberSigned(CAROL, 0, NOW + DEADLINE_SLACK_SECONDS + 1);
    const plan = select([used, expiring, fine], { [ALICE]: 4 });
    expect(plan.terminal).to.deep.equal([
      {
        id: used.id,
        state: "failed",
        error: { code: "nonce_used", message: "its forwarder nonce was used by another request" },
      },
      { id: expiring.id, state: "failed", error: { code: "expired", message: "the signed request expired" } },
    ]);
    expect(picks(plan)).to.deep.equal([[fine.id, 0]]);
  });

  it("holds a signer whose signed nonce is ahead of its next one; the other signers go on", function () {
    const rows = [memberSigned(ALICE, 6), memberSigned(ALICE, 7), custodial(BOB)];
    const plan = select(rows, { [ALICE]: 5 });
    // ALICE's nonce 5 is not ours to send: her 6 and 7 cannot run before it and wait.
    expect(picks(plan)).to.deep.equal([[rows[2].id, 0]]);
    expect(plan.terminal).to.deep.equal([]);
  });

  it("does not change the next nonces it is given", function () {
    const nextNonces = new Map([[ALICE, 3]]);
    selectBatch({ rows: [custodial(ALICE)], chainNonces: new Map([[ALICE, 3]]), nextNonces, maxBatch: 5, nowSec: NOW });
    expect(nextNonces.get(ALICE)).to.equal(3);
  });

  it("any queue of custodial requests: order kept, nonces consecutive per signer, within size and gas cap (property)", function () {
    const queue = fc.array(
      fc.record({
        signer: fc.constantFrom(ALICE, BOB, CAROL),
        gas: fc.bigInt(21_000n, 6_000_000n),
        bytes: fc.nat(2000),
      }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(queue, fc.integer({ min: 1, max: 30 }), fc.nat(50), (specs, maxBatch, start) => {
        const rows = specs.map((s) => custodial(s.signer, s.gas, s.bytes));
        const plan = select(rows, { [ALICE]: start, [BOB]: start, [CAROL]: start }, {}, maxBatch);
        expect(plan.picked.length).to.be.at.most(maxBatch);
        expect(plan.gasLimit).to.be.at.most(TX_GAS_CAP);
        const total = plan.picked.reduce(
          (sum, p) => sum + requestCost(BigInt(p.row.gas), (p.row.data.length - 2) / 2),
          0n,
        );
        expect(plan.gasLimit).to.equal(TX_OVERHEAD + total);
        // All custodial: the batch is a prefix of the queue.
        expect(plan.picked.map((p) => p.row.id)).to.deep.equal(rows.slice(0, plan.picked.length).map((r) => r.id));
        for (const signer of [ALICE, BOB, CAROL]) {
          const nonces = plan.picked.filter((p) => p.row.signer === signer).map((p) => p.nonce);
          expect(nonces).to.deep.equal(nonces.map((_, i) => start + i));
        }
      }),
    );
  });
});
