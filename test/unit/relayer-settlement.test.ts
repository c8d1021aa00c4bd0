/**
 * Settling relayer transactions (server/relayer/settlement.ts), nonce allocation
 * (server/relayer/nonces.ts) and the states (server/relayer/states.ts), alone: from a receipt's
 * ExecutedForwardRequest events to each request's outcome, retry-or-fail, the next nonces, a mined
 * request's stage and each signed version's state. No chain: part of `npm run test:unit`.
 */
import { expect } from "chai";
import {
  executionKey,
  executionVerdict,
  executionsIn,
  receiptVerdicts,
  retryOrFail,
  settlementOf,
  type ExecutedEvent,
  type SentRequest,
} from "../../server/relayer/settlement";
import {
  nextForwarderNonce,
  nextForwarderNonces,
  relayerNonceAfterRecovery,
  releasesNonce,
} from "../../server/relayer/nonces";
import { isSettled, stageOf, versionStates } from "../../server/relayer/states";
import { DEADLINE_SLACK_SECONDS } from "../../server/relayer/limits";

const NOW = 1_700_000_000;
const [ALICE, BOB] = ["0xA11cE", "0xB0b"];

/** A log of the test: either a request's own event (`executed`) or something its call emitted. */
interface FakeLog {
  name: string;
  executed?: ExecutedEvent;
}
const emitted = (name: string): FakeLog => ({ name });
const executed = (signer: string, nonce: bigint, success: boolean): FakeLog => ({
  name: `executed ${signer}:${nonce}`,
  executed: { signer, nonce, success },
});

function request(id: string, signer: string, nonce: number | null, extra: Partial<SentRequest> = {}): SentRequest {
  return { id, signer, nonce, custodial: 1, deadline: null, attempts: 0, ...extra };
}

describe("relayer settlement", function () {
  describe("executionsIn", function () {
    it("gives each executed request the logs its call emitted, between the previous event and its own", function () {
      const logs = [
        emitted("BatchRegistered 1"),
        executed(ALICE, 4n, true),
        executed(BOB, 0n, false), // a reverted call emits nothing
        emitted("Transfer"),
        emitted("SaleFunded"),
        executed(ALICE, 5n, true),
        emitted("refund"), // after the last request: nobody's
      ];
      const out = executionsIn(logs, (l) => l.executed);
      expect([...out.keys()]).to.deep.equal([executionKey(ALICE, 4n), executionKey(BOB, 0n), executionKey(ALICE, 5)]);
      expect(out.get(executionKey(ALICE, 4))).to.deep.equal({ success: true, logs: [logs[0]] });
      expect(out.get(executionKey(BOB, 0))).to.deep.equal({ success: false, logs: [] });
      expect(out.get(executionKey(ALICE, 5))!.logs.map((l) => l.name)).to.deep.equal(["Transfer", "SaleFunded"]);
    });
  });

  describe("receiptVerdicts", function () {
    const rows = [request("a", ALICE, 4), request("b", BOB, 0), request("c", ALICE, 5)];
    const receipt = { hash: "0xfeed", blockNumber: 42, status: 1 };

    it("mined for a successful call, reverted for a failed one, unexecuted without an event", function () {
      const executions = executionsIn([executed(ALICE, 4n, true), executed(BOB, 0n, false)], (l) => l.executed);
      expect(receiptVerdicts(rows, receipt, executions)).to.deep.equal([
        { kind: "mined", txHash: "0xfeed", blockNumber: 42 },
        { kind: "reverted", txHash: "0xfeed", blockNumber: 42 },
        { kind: "unexecuted" },
      ]);
    });

    it("retries every request of a reverted transaction (it executed nothing)", function () {
      expect(receiptVerdicts(rows, { ...receipt, status: 0 }, new Map())).to.deep.equal(
        rows.map(() => ({ kind: "retry" })),
      );
    });

    it("resolves every request one by one when no version of the transaction was mined", function () {
      expect(receiptVerdicts(rows, null, undefined)).to.deep.equal(rows.map(() => ({ kind: "unexecuted" })));
    });

    it("does not match a request by its signer alone", function () {
      const executions = executionsIn([executed(ALICE, 5n, true)], (l) => l.executed);
      expect(receiptVerdicts([rows[0]], receipt, executions)).to.deep.equal([{ kind: "unexecuted" }]);
    });
  });

  describe("retryOrFail", function () {
    it("requeues a request that did not run", function () {
      expect(retryOrFail(request("a", ALICE, 4, { attempts: 3 }), 5, NOW)).to.equal("requeue");
    });

    it("fails it not_executed on its last attempt", function () {
      expect(retryOrFail(request("a", ALICE, 4, { attempts: 4 }), 5, NOW)).to.deep.equal({
        id: "a",
        state: "failed",
        error: { code: "not_executed", message: "not executed after 5 attempts" },
      });
    });

    it("fails a member-signed request whose deadline is too close; a custodial one is re-signed instead", function () {
      const deadline = NOW + DEADLINE_SLACK_SECONDS;
      expect(retryOrFail(request("a", ALICE, 4, { custodial: 0, deadline }), 5, NOW)).to.deep.equal({
        id: "a",
        state: "failed",
        error: { code: "expired", message: "the signed request expired" },
      });
      expect(retryOrFail(request("a", ALICE, 4, { custodial: 0, deadline: deadline + 1 }), 5, NOW)).to.equal("requeue");
      expect(retryOrFail(request("a", ALICE, 4, { custodial: 1, deadline }), 5, NOW)).to.equal("requeue");
    });
  });

  describe("a request whose nonce was used elsewhere", function () {
    it("is mined or reverted where its execution log shows it ran", function () {
      const at = { txHash: "0xother", blockNumber: 7 };
      expect(executionVerdict({ success: true, ...at })).to.deep.equal({ kind: "mined", ...at });
      expect(executionVerdict({ success: false, ...at })).to.deep.equal({ kind: "reverted", ...at });
    });

    it("fails indeterminate without a log (it must not run twice)", function () {
      expect(settlementOf("a", executionVerdict(undefined))).to.deep.equal({
        id: "a",
        state: "failed",
        error: { code: "indeterminate", message: "its nonce was used but no execution log was found" },
      });
    });

    it("settles a mined verdict with where it ran; others need more than the verdict", function () {
      expect(settlementOf("a", { kind: "mined", txHash: "0xa", blockNumber: 3 })).to.deep.equal({
        id: "a",
        state: "mined",
        txHash: "0xa",
        blockNumber: 3,
      });
      expect(settlementOf("a", { kind: "reverted", txHash: "0xa", blockNumber: 3 })).to.equal(undefined);
      expect(settlementOf("a", { kind: "retry" })).to.equal(undefined);
    });
  });
});

describe("relayer nonces", function () {
  it("a signer's next forwarder nonce: the chain's, or after the highest we hold", function () {
    expect(nextForwarderNonce(5, null)).to.equal(5);
    expect(nextForwarderNonce(5, 7)).to.equal(8);
    expect(nextForwarderNonce(5, 3)).to.equal(5); // held ones the chain has passed do not count
    expect(nextForwarderNonce(0, 0)).to.equal(1);
  });

  it("for every signer of a batch at once", function () {
    const held: Record<string, number | null> = { [ALICE]: 9, [BOB]: null };
    const next = nextForwarderNonces(
      new Map([
        [ALICE, 2],
        [BOB, 4],
      ]),
      (s) => held[s],
    );
    expect([...next]).to.deep.equal([
      [ALICE, 10],
      [BOB, 4],
    ]);
  });

  it("after recovery: the node's pending count, or after the last open transaction", function () {
    expect(relayerNonceAfterRecovery(12, [])).to.equal(12);
    expect(relayerNonceAfterRecovery(12, [10, 11, 14])).to.equal(15); // the node forgot 14: kept
    expect(relayerNonceAfterRecovery(20, [10, 11])).to.equal(20); // nonces used outside the gateway: adopted
  });

  it("goes back to a dropped transaction's nonce only when it was the last one taken", function () {
    expect(releasesNonce(8, 7)).to.be.true;
    expect(releasesNonce(9, 7)).to.be.false;
    expect(releasesNonce(undefined, 7)).to.be.false;
  });
});

describe("relayer states", function () {
  it("mined and failed are settled; queued and sent are not", function () {
    expect(["queued", "sent", "mined", "failed"].map((s) => isSettled(s as "queued"))).to.deep.equal([
      false,
      false,
      true,
      true,
    ]);
  });

  it("a mined request is confirmed once its block is `depth` deep, as the index takes blocks", function () {
    expect(stageOf("mined", 100, 102, 3)).to.equal("mined");
    expect(stageOf("mined", 100, 103, 3)).to.equal("confirmed");
    expect(stageOf("mined", 100, undefined, 3)).to.equal("mined");
    expect(stageOf("mined", 100, undefined, 0)).to.equal("confirmed");
  });

  it("other states are their own stage", function () {
    for (const state of ["queued", "sent", "failed"] as const) expect(stageOf(state, 100, 1000, 0)).to.equal(state);
  });

  it("names each signed version: sent while latest, replaced once superseded, mined, dropped", function () {
    const hashes = ["0x1", "0x2", "0x3"];
    expect(versionStates(hashes, { state: "sent", minedHash: null })).to.deep.equal(["replaced", "replaced", "sent"]);
    expect(versionStates(hashes, { state: "mined", minedHash: "0x3" })).to.deep.equal([
      "replaced",
      "replaced",
      "mined",
    ]);
    // The chain took the second: the third, a replacement that lost, never will be.
    expect(versionStates(hashes, { state: "mined", minedHash: "0x2" })).to.deep.equal(["replaced", "mined", "dropped"]);
    expect(versionStates(hashes, { state: "dropped", minedHash: null })).to.deep.equal([
      "dropped",
      "dropped",
      "dropped",
    ]);
    expect(versionStates(["0x1"], { state: "sent", minedHash: null })).to.deep.equal(["sent"]);
  });
});
