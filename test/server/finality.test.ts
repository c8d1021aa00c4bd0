/**
 * Pages show only facts CONFIRMATIONS deep. The index takes a block once head − CONFIRMATIONS has reached
 * it, and the verify page, its JSON and the API read only the index: a fact mined but not yet deep enough
 * is absent everywhere, and appears once the blocks are on top. The operation's status says the same
 * (`stage` mined → confirmed, `final` false → true).
 *
 * Deterministic whatever the suite's chain mode: the embedded anvil mines on arrival here, CONFIRMATIONS=2,
 * and the test makes the blocks on top itself (evm_mine).
 */
import { expect } from "chai";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface VerifyJson {
  events: { bizStep: string; chain: { txHash: string } }[];
  verification: { indexedBlock: number; head: number };
}

describe("finality: facts appear CONFIRMATIONS blocks after they are mined", function () {
  this.timeout(120_000);
  let t: TestGateway;
  let member: ApiClient;
  let batchId: string;

  const mine = () => t.provider.send("evm_mine", []);
  const head = async () => Number(await t.provider.getBlockNumber());
  const verifyJson = async (): Promise<VerifyJson> => {
    const r = await t.api.get(`/b/${batchId}`, { accept: "application/json" });
    expect(r.status, r.text).to.equal(200);
    return r.body as VerifyJson;
  };
  /** Polls until `done` holds (the index syncs once a second; the chain check is reused for 2 s). */
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await sleep(100);
    }
  }

  before(async function () {
    t = await startTestGateway({ env: { CONFIRMATIONS: "2", EMBEDDED_BLOCK_TIME: "0" } });
    // The setup's writes wait for the index to reach their blocks: blocks keep coming meanwhile.
    const miner = setInterval(() => void mine().catch(() => undefined), 200);
    try {
      const registrar = t.api.as(
        (await t.admin.post("/api/v1/users", { role: "registrar", displayName: "R" })).body.token,
      );
      const coop = await registrar.post("/api/v1/cooperatives", {
        name: "Coopérative Tafilalet des Dattes",
        region: "Errachidia",
        registrationNumber: "ODCO-ER-7",
        reserveBps: 500,
        admin: { displayName: "Hafsa" },
      });
      expect(coop.status, coop.text).to.equal(201);
      const manager = t.api.as(coop.body.admin.token);
      const m = await manager.post(`/api/v1/cooperatives/${coop.body.cooperativeId}/members`, {
        displayName: "Itto",
        reference: "card-itto",
      });
      expect(m.status, m.text).to.equal(201);
      member = t.api.as(m.body.member.token);
      const batch = await member.post("/api/v1/batches", {
        cooperativeId: Number(coop.body.cooperativeId),
        productCode: "dates-mejhoul",
        lotCode: "MEJ-FINAL-1",
        quantity: "500",
        unit: "kg",
        productionDate: day(-2),
        contributors: [{ memberId: m.body.member.userId, weight: "1" }],
      });
      expect(batch.status, batch.text).to.equal(201);
      batchId = batch.body.batchId;
    } finally {
      clearInterval(miner);
    }
    // No block is made from here on but by the test: the index settles at head − 2.
    const settled = (await head()) - 2;
    await eventually(
      async () => t.gateway.ctx.indexer.indexedBlock(),
      (b) => b >= settled,
      "index after setup",
    );
  });

  after(async function () {
    await t?.stop();
  });

  it("a packing step mined at block B is absent at head B and B+1, present at B+2; its operation turns final", async function () {
    const posted = await member.post(`/api/v1/batches/${batchId}/events?wait=false`, {
      bizStep: "packing",
      location: "Erfoud",
      eventTime: day(-1),
    });
    expect(posted.status, posted.text).to.equal(202);
    const operation = posted.headers.get("location")!;
    const mined = await eventually(
      async () =>
        (await member.get(operation)).body as {
          state: string;
          stage: string;
          final: boolean;
          txHash: string;
          blockNumber: number;
        },
      (s) => s.state === "mined",
      "operation",
    );
    const minedAt = mined.blockNumber;
    expect(await head()).to.equal(minedAt); // mined on arrival, nothing on top
    expect(mined).to.include({ stage: "mined", final: false });
    const packed = (j: VerifyJson) => j.events.some((e) => e.chain.txHash === mined.txHash);

    // Head B: the index stays at B − 2 (it cannot pass head − CONFIRMATIONS), the page lacks the step.
    await sleep(1_500);
    let page = await verifyJson();
    expect(t.gateway.ctx.indexer.indexedBlock()).to.be.below(minedAt);
    expect(packed(page), "shown at depth 0").to.equal(false);
    expect(page.events.map((e) => e.bizStep)).to.not.include("packing");
    const api = await t.api.get(`/api/v1/batches/${batchId}`);
    expect(api.body.events.some((e: { chain: { txHash: string } }) => e.chain.txHash === mined.txHash)).to.equal(false);

    // Head B + 1: one block deep, still not shown.
    await mine();
    await eventually(
      async () => t.gateway.ctx.indexer.indexedBlock(),
      (b) => b === minedAt - 1,
      "index at B − 1",
    );
    await sleep(2_100); // past the chain check's reuse, so the page is rendered from this index
    page = await verifyJson();
    expect(page.verification.indexedBlock).to.equal(minedAt - 1);
    expect(packed(page), "shown at depth 1").to.equal(false);
    expect(((await member.get(operation)).body as { final: boolean }).final).to.equal(false);

    // Head B + 2: CONFIRMATIONS deep, shown, and the operation is final.
    await mine();
    page = await eventually(verifyJson, packed, "verify JSON after two blocks");
    // (The page's `verification` block comes from the chain check, reused for 2 s: it may still name B − 1.)
    expect(t.gateway.ctx.indexer.indexedBlock()).to.be.at.least(minedAt);
    const done = await eventually(
      async () => (await member.get(operation)).body as { stage: string; final: boolean },
      (s) => s.final,
      "operation final",
    );
    expect(done.stage).to.equal("confirmed");
  });
});
