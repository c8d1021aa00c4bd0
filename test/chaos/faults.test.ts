/**
 * Faults, with the gateway and the node as real processes: a separately spawned anvil (its --state
 * file kept, so it can be SIGKILLed and restarted on the same port) and the gateway in its own
 * process (scripts/bench/gateway-child, RPC_URL mode through GATEWAY_CHILD_ENV) on one data folder.
 * Each scenario records a row of the summary table (./summary.ts).
 *
 * Needs dist/ built: `npx tsc -p tsconfig.build.json`.
 */
import { wordToText } from "../../domain/words";
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedChain, type EmbeddedChain } from "../../server/chain/embedded";
import { writeDeployment } from "../../server/chain/deploy";
import { startGatewayProcess, type GatewayProcess } from "../../scripts/bench/gateway-process";
import { startTestChain, type TestChain } from "../helpers/chain";
import { rpcModeEnv, TEST_BLOCK_TIME } from "../helpers/chainMode";
import { ApiClient, type ApiResponse } from "../helpers/gateway";
import { record, type ChaosRow } from "./summary";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The relayer's refusal threshold (RelayerOptions.minBalanceWei default). */
const MIN_BALANCE = 10n ** 16n;

interface Member {
  token: string;
  userId: string;
}

describe("chaos: faults with real processes", function () {
  this.timeout(120_000);

  let tc: TestChain;
  let nodeDir: string;
  let port: number;
  let rpcUrl: string;
  /** The node now running (the first one is tc.chain.chain). */
  let node: EmbeddedChain | undefined;
  let gwDir: string;
  let gw: GatewayProcess | undefined;
  const stopped: GatewayProcess[] = [];
  let relayer: string;
  let adminToken: string;
  let coopAdminToken: string;
  let cooperativeId: number;
  let members: Member[] = [];
  let lotCounter = 0;

  // ---- plumbing ------------------------------------------------------------------------------

  async function rpc<T = any>(method: string, params: unknown[] = []): Promise<T> {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  }

  const client = (token?: string) => new ApiClient(gw!.url, token);

  /** Stops mining: automine off, or in the interval mode (2-s blocks) the interval itself. */
  async function pauseMining(): Promise<void> {
    if (TEST_BLOCK_TIME > 0) await rpc("evm_setIntervalMining", [0]);
    else await rpc("evm_setAutomine", [false]);
  }

  /** Mines what waits, and goes on mining as the suite's chain mode does. */
  async function resumeMining(): Promise<void> {
    if (TEST_BLOCK_TIME > 0) await rpc("evm_setIntervalMining", [TEST_BLOCK_TIME]);
    else await rpc("evm_setAutomine", [true]);
    await rpc("evm_mine");
  }

  async function startGw(): Promise<GatewayProcess> {
    // startGatewayProcess spawns synchronously: the variable is read by this child only.
    process.env.GATEWAY_CHILD_ENV = JSON.stringify({
      RPC_URL: rpcUrl,
      CHAIN_ID: "31337",
      RELAYER_KEY: tc.wallets[1].privateKey,
      DEPLOYER_KEY: tc.wallets[0].privateKey,
      ...rpcModeEnv(),
    });
    const started = startGatewayProcess(gwDir, "info");
    delete process.env.GATEWAY_CHILD_ENV;
    gw = await started;
    return gw;
  }

  async function killNode(): Promise<void> {
    const child = node!.process;
    const gone = new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve()),
    );
    child.kill("SIGKILL");
    await gone;
  }

  async function restartNode(): Promise<void> {
    node = await startEmbeddedChain({ dataDir: nodeDir, port, blockTime: TEST_BLOCK_TIME });
  }

  async function ok(p: Promise<ApiResponse>, status = 201) {
    const r = await p;
    expect(r.status, r.text).to.equal(status);
    return r.body;
  }

  function batchBody(member: Member, lotCode: string) {
    return {
      cooperativeId,
      productCode: "dates-mejhoul",
      lotCode,
      quantity: "100",
      unit: "kg",
      productionDate: day(-1),
      contributors: [{ memberId: member.userId, weight: "1" }],
    };
  }

  const lot = (prefix: string) => `${prefix}-${++lotCounter}`;

  /** BatchRegistered events on-chain, counted per lot code. */
  async function eventCounts(): Promise<Map<string, number>> {
    const batches = tc.deployed.batches;
    const logs = await rpc<{ topics: string[]; data: string }[]>("eth_getLogs", [
      {
        fromBlock: "0x0",
        toBlock: "latest",
        address: await batches.getAddress(),
        topics: [batches.interface.getEvent("BatchRegistered").topicHash],
      },
    ]);
    const counts = new Map<string, number>();
    for (const l of logs) {
      const parsed = batches.interface.parseLog(l)!;
      const code = wordToText(String(parsed.args.info.lotCode));
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    return counts;
  }

  /** The relayer's transactions on-chain: their nonces must be 0..n-1 with no gap, n = its nonce. */
  async function relayerNoncesContiguous(): Promise<{ ok: boolean; count: number }> {
    const latest = Number(await rpc<string>("eth_blockNumber"));
    const nonces: number[] = [];
    for (let b = 0; b <= latest; b++) {
      const block = await rpc<{ transactions: { from: string; nonce: string }[] }>("eth_getBlockByNumber", [
        "0x" + b.toString(16),
        true,
      ]);
      for (const tx of block.transactions)
        if (tx.from.toLowerCase() === relayer.toLowerCase()) nonces.push(Number(tx.nonce));
    }
    nonces.sort((a, b) => a - b);
    const count = Number(await rpc<string>("eth_getTransactionCount", [relayer, "latest"]));
    const ok = nonces.length === count && nonces.every((n, i) => n === i);
    return { ok, count };
  }

  async function relayerNonce(tag = "latest"): Promise<number> {
    return Number(await rpc<string>("eth_getTransactionCount", [relayer, tag]));
  }

  /** Polls the operations (as their owners) until each is mined or failed. */
  async function settle(ops: { id: string; token: string }[], timeoutMs = 60_000) {
    const end = Date.now() + timeoutMs;
    const final = new Map<string, any>();
    while (final.size < ops.length && Date.now() < end) {
      for (const op of ops) {
        if (final.has(op.id)) continue;
        const r = await client(op.token).get(`/api/v1/operations/${op.id}`);
        if (r.status === 200 && (r.body.state === "mined" || r.body.state === "failed")) final.set(op.id, r.body);
      }
      if (final.size < ops.length) await sleep(250);
    }
    return final;
  }

  /** Waits until the gateway's relayer holds `n` requests (queued + sent), read from /health. */
  async function waitDepth(pred: (d: { queued: number; sent: number }) => boolean, timeoutMs = 20_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const h = await client().get("/health");
      const d = h.body?.relayer as { queued: number; sent: number } | undefined;
      if (d && pred(d)) {
        // Let the relayer send what it may (at most maxInFlight transactions pending): stable for 500 ms.
        await sleep(500);
        const again = (await client().get("/health")).body?.relayer as { queued: number; sent: number } | undefined;
        if (again && again.sent === d.sent && again.queued === d.queued) return d;
        continue;
      }
      if (Date.now() > end) throw new Error(`relayer depth not reached: ${h.text}`);
      await sleep(100);
    }
  }

  /** Runs a scenario body and records its row, as 'fail' (with the error) if the body throws. */
  async function scenario(name: string, body: (row: ChaosRow) => Promise<void>) {
    const row: ChaosRow = {
      scenario: name,
      result: "fail",
      requests: 0,
      landed: 0,
      lost: 0,
      duplicated: 0,
      fivexx: 0,
      notes: "",
    };
    try {
      await body(row);
      row.result = "pass";
    } catch (err) {
      row.notes = `${row.notes} ERROR: ${(err as Error).message.split("\n")[0].slice(0, 160)}`.trim();
      throw err;
    } finally {
      record(row);
    }
  }

  // ---- setup and teardown --------------------------------------------------------------------

  before(async function () {
    this.timeout(240_000);
    nodeDir = mkdtempSync(path.join(tmpdir(), "cooptrace-chaos-node-"));
    gwDir = mkdtempSync(path.join(tmpdir(), "cooptrace-chaos-gw-"));
    tc = await startTestChain({ dataDir: nodeDir });
    node = tc.chain;
    rpcUrl = tc.chain.rpcUrl;
    port = Number(new URL(rpcUrl).port);
    relayer = tc.wallets[1].address;
    writeDeployment(gwDir, tc.deployed.deployment);
    await startGw();
    adminToken = gw!.adminToken;
    const admin = client(adminToken);
    const registrar = (await ok(admin.post("/api/v1/users", { role: "registrar", displayName: "R" }))).token;
    const coop = await ok(
      client(registrar).post("/api/v1/cooperatives", {
        name: "Coopérative Tighmert",
        region: "Guelmim",
        registrationNumber: "CHAOS-1",
        reserveBps: 500,
        admin: { displayName: "Fatima" },
      }),
    );
    cooperativeId = coop.cooperativeId;
    coopAdminToken = coop.admin.token;
    members = [];
    for (const name of ["Aicha", "Itto", "Khadija", "Rkia"]) {
      const m = (
        await ok(
          client(coop.admin.token).post(`/api/v1/cooperatives/${cooperativeId}/members`, {
            displayName: name,
            reference: name,
          }),
        )
      ).member;
      members.push({ token: m.token, userId: m.userId });
    }
  });

  after(async function () {
    this.timeout(60_000);
    for (const g of [gw, ...stopped]) await g?.stop().catch(() => undefined);
    await node?.stop().catch(() => undefined);
    await tc?.chain.stop().catch(() => undefined);
    tc?.provider.destroy();
    // No anvil and no gateway child of this run may be left.
    for (const dir of [nodeDir, gwDir]) {
      if (!dir) continue;
      let left = "";
      try {
        left = execFileSync("pgrep", ["-f", dir], { encoding: "utf8" }).trim();
      } catch {
        left = ""; // pgrep exits 1 when nothing matches
      }
      rmSync(dir, { recursive: true, force: true });
      expect(left, `processes left for ${dir}`).to.equal("");
    }
  });

  // ---- scenarios -----------------------------------------------------------------------------

  it("1. node SIGKILLed with 20 writes in flight, restarted on its state: 503 while down, all land once", async function () {
    await scenario("1 node killed (20 writes in flight)", async (row) => {
      // Mining paused so that the 20 are accepted and sent but not mined when the node dies; the last
      // block is older than anvil's 2 s state interval, so the kill loses nothing that was settled.
      await pauseMining();
      const lots = Array.from({ length: 20 }, () => lot("K"));
      const inFlight = lots.map((code, i) => {
        const m = members[i % members.length];
        return client(m.token)
          .post("/api/v1/batches", batchBody(m, code))
          .then((r) => ({ r, token: m.token, code }));
      });
      const depth = await waitDepth((d) => d.queued + d.sent === 20);
      await sleep(2_500);
      const t0 = Date.now();
      await killNode();

      // Down: writes answer 503, never 500.
      const probes: ApiResponse[] = [];
      for (let i = 0; i < 3; i++)
        probes.push(await client(members[0].token).post("/api/v1/batches", batchBody(members[0], lot("D"))));
      const health = await client().get("/health");
      expect(health.status).to.equal(503);
      for (const p of probes) {
        expect(p.status, p.text).to.equal(503);
        expect(p.body.code).to.be.oneOf(["chain_unavailable", "contracts_missing"]);
      }
      await sleep(Math.max(0, 3_000 - (Date.now() - t0)));
      await restartNode();

      const answers = await Promise.all(inFlight);
      const unexpected = [...answers.map((a) => a.r), ...probes].filter((r) => r.status >= 500 && r.status !== 503);
      row.fivexx = unexpected.length;
      const accepted = answers.filter((a) => (a.r.status === 201 || a.r.status === 202) && a.r.body.operationId);
      const final = await settle(accepted.map((a) => ({ id: a.r.body.operationId, token: a.token })));
      const counts = await eventCounts();
      row.requests = 20 + probes.length;
      row.landed = accepted.filter((a) => counts.get(a.code) === 1).length;
      row.duplicated = lots.filter((c) => (counts.get(c) ?? 0) > 1).length;
      row.lost = accepted.filter((a) => !final.has(a.r.body.operationId)).length;
      const failed = [...final.values()].filter((s) => s.state === "failed").length;
      const nonces = await relayerNoncesContiguous();
      const statuses = answers
        .map((a) => a.r.status)
        .reduce<Record<number, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});
      row.notes = `at the kill: ${depth.sent} sent, ${depth.queued} queued (automine off); HTTP answers ${JSON.stringify(statuses)}; ${probes.length} writes while down → 503; ${failed} failed explicitly; relayer nonces 0..${nonces.count - 1} ${nonces.ok ? "contiguous" : "GAP"}`;

      expect(row.fivexx).to.equal(0);
      expect(accepted.length).to.equal(20);
      expect(row.lost).to.equal(0);
      expect(row.duplicated).to.equal(0);
      for (const a of accepted) {
        const s = final.get(a.r.body.operationId);
        if (s.state === "mined") expect(counts.get(a.code), a.code).to.equal(1);
        else expect(counts.get(a.code) ?? 0, a.code).to.equal(0);
      }
      // Probes were refused before anything was queued: nothing of theirs on-chain.
      expect(nonces.ok).to.equal(true);
    });
  });

  it("2. gateway SIGKILLed with 20 accepted unmined requests, restarted: outbox reconciles, each once", async function () {
    await scenario("2 gateway killed (20 accepted, unmined)", async (row) => {
      await pauseMining();
      const lots = Array.from({ length: 20 }, () => lot("G"));
      const answers = await Promise.all(
        lots.map(async (code, i) => {
          const m = members[i % members.length];
          const r = await client(m.token).post("/api/v1/batches?wait=false", batchBody(m, code));
          return { r, token: m.token, code };
        }),
      );
      row.requests = 20;
      row.fivexx = answers.filter((a) => a.r.status >= 500).length;
      for (const a of answers) expect(a.r.status, a.r.text).to.equal(202);
      const ids = answers.map((a) => a.r.body.operationId as string);
      const depth = await waitDepth((d) => d.queued + d.sent === 20);
      const pendingBefore = await relayerNonce("pending");

      process.kill(gw!.pid, "SIGKILL");
      await gw!.stop(); // returns once the process is gone
      stopped.push(gw!);
      await startGw();
      await resumeMining();

      const final = await settle(ids.map((id, i) => ({ id, token: answers[i].token })));
      const counts = await eventCounts();
      row.landed = answers.filter(
        (a) => final.get(a.r.body.operationId)?.state === "mined" && counts.get(a.code) === 1,
      ).length;
      row.lost = ids.filter((id) => !final.has(id)).length;
      row.duplicated = lots.filter((c) => (counts.get(c) ?? 0) > 1).length;
      const nonces = await relayerNoncesContiguous();
      row.notes = `at the kill: ${depth.sent} sent (relayer nonces < ${pendingBefore} pending in the node), ${depth.queued} queued; same 20 operation ids after restart; nonces ${nonces.ok ? "contiguous" : "GAP"}`;

      expect(final.size).to.equal(20);
      for (const [id, s] of final) expect(s.id).to.equal(id);
      expect(row.landed).to.equal(20);
      expect(row.duplicated).to.equal(0);
      expect(nonces.ok).to.equal(true);
    });
  });

  it("2b. gateway SIGKILLed with a buyer's payment into escrow accepted and unmined: paid once after restart", async function () {
    await scenario("2b gateway SIGKILLed, buyer's payment pending", async (row) => {
      const m = members[0];
      const batch = await ok(client(m.token).post("/api/v1/batches", batchBody(m, lot("F"))));
      const signup = await ok(client().post("/api/v1/buyers", { displayName: "Épicerie Guelmim" }));
      const buyer = signup.user.address as string;
      await rpc("anvil_setBalance", [buyer, "0x" + (10n ** 18n).toString(16)]);
      const price = 7_000_000n;
      const sale = await ok(
        client(coopAdminToken).post("/api/v1/sales", {
          batchId: batch.batchId,
          quantity: "10",
          price: price.toString(),
          buyer,
        }),
      );
      const before = BigInt(await rpc<string>("eth_getBalance", [buyer, "latest"]));
      await rpc("evm_setAutomine", [false]);
      const r = await client(signup.token).post(`/api/v1/sales/${sale.saleId}/fund?wait=false`);
      row.requests = 1;
      row.fivexx = r.status >= 500 ? 1 : 0;
      expect(r.status, r.text).to.equal(202);
      const id = r.body.operationId as string;
      for (let end = Date.now() + 10_000; Number((await rpc<any>("txpool_status")).pending) < 1; await sleep(50))
        if (Date.now() > end) throw new Error("the payment never reached the node");

      process.kill(gw!.pid, "SIGKILL");
      await gw!.stop();
      stopped.push(gw!);
      await startGw();
      await rpc("evm_setAutomine", [true]);
      await rpc("evm_mine");

      const final = (await settle([{ id, token: signup.token }])).get(id);
      const escrow = tc.deployed.escrow;
      const funded = await escrow.queryFilter(escrow.filters.SaleFunded(sale.saleId));
      const receipt = final?.txHash ? await rpc<any>("eth_getTransactionReceipt", [final.txHash]) : null;
      const gas = receipt ? BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) : 0n;
      const spent = before - BigInt(await rpc<string>("eth_getBalance", [buyer, "latest"]));
      row.landed = final?.state === "mined" && funded.length === 1 ? 1 : 0;
      row.lost = final ? 0 : 1;
      row.duplicated = funded.length > 1 ? 1 : 0;
      row.notes = `same operation id after restart; ${funded.length} SaleFunded; buyer paid price + gas ${spent === price + gas ? "exactly" : "WRONG"}`;

      expect(final?.state, JSON.stringify(final)).to.equal("mined");
      expect(funded).to.have.length(1);
      expect(spent).to.equal(price + gas);
    });
  });

  it("3. an unmined transaction is replaced at the same nonce with higher fees, mined once, same id", async function () {
    this.timeout(90_000);
    await scenario("3 stuck tx replaced (same nonce)", async (row) => {
      // replaceAfterMs is 30 s in the gateway (no setting for it): this waits for the real one.
      await pauseMining();
      const m = members[0];
      const code = lot("P");
      const r = await client(m.token).post("/api/v1/batches?wait=false", batchBody(m, code));
      row.requests = 1;
      row.fivexx = r.status >= 500 ? 1 : 0;
      expect(r.status, r.text).to.equal(202);
      const id = r.body.operationId as string;
      const status = async () => (await ok(client(m.token).get(`/api/v1/operations/${id}`), 200)) as any;
      let s = await status();
      for (let end = Date.now() + 10_000; !(s.txHashes?.length >= 1) && Date.now() < end; s = await status())
        await sleep(100);
      // The outbox records a signed transaction just before broadcasting it: wait until the node has it.
      const txByHash = async (hash: string) => {
        for (let end = Date.now() + 10_000; Date.now() < end; await sleep(50)) {
          const tx = await rpc<any>("eth_getTransactionByHash", [hash]);
          if (tx) return tx;
        }
        throw new Error(`transaction ${hash} never reached the node`);
      };
      const first = await txByHash(s.txHashes[0]);
      for (let end = Date.now() + 50_000; !(s.txHashes.length >= 2) && Date.now() < end; s = await status())
        await sleep(500);
      expect(s.txHashes.length, "replaced").to.be.greaterThanOrEqual(2);
      const second = await txByHash(s.txHashes.at(-1));
      await resumeMining();
      const final = (await settle([{ id, token: m.token }])).get(id);
      const counts = await eventCounts();
      row.landed = final?.state === "mined" && counts.get(code) === 1 ? 1 : 0;
      row.duplicated = (counts.get(code) ?? 0) > 1 ? 1 : 0;
      row.lost = final ? 0 : 1;
      const bump = (BigInt(second.maxFeePerGas) * 1000n) / BigInt(first.maxFeePerGas);
      row.notes = `through the gateway process after its 30 s replaceAfterMs; nonce ${Number(first.nonce)} → ${Number(second.nonce)}; maxFee ×${Number(bump) / 1000}; ${s.txHashes.length} hashes, one mined`;

      expect(second.nonce).to.equal(first.nonce);
      expect(BigInt(second.maxFeePerGas) * 8n).to.be.greaterThanOrEqual(BigInt(first.maxFeePerGas) * 9n);
      expect(BigInt(second.maxPriorityFeePerGas)).to.be.greaterThan(BigInt(first.maxPriorityFeePerGas));
      expect(final.id).to.equal(id);
      expect(final.state).to.equal("mined");
      expect(final.txHashes).to.include(final.txHash);
      expect(counts.get(code)).to.equal(1);
      expect((await relayerNoncesContiguous()).ok).to.equal(true);
    });
  });

  it("4. relayer funded for ~3 transactions, 10 requests: 503 relayer_low_balance before any nonce; top-up resumes", async function () {
    await scenario("4 relayer out of funds", async (row) => {
      // The cost of one single-request transaction, from the last relayer transaction's receipt.
      let lastHash: string | undefined;
      for (let b = Number(await rpc<string>("eth_blockNumber")); lastHash === undefined && b > 0; b--) {
        const block = await rpc<{ transactions: { hash: string; from: string }[] }>("eth_getBlockByNumber", [
          "0x" + b.toString(16),
          true,
        ]);
        lastHash = block.transactions.find((t) => t.from.toLowerCase() === relayer.toLowerCase())?.hash;
      }
      const receipt = await rpc("eth_getTransactionReceipt", [lastHash]);
      const cost = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
      const original = BigInt(await rpc<string>("eth_getBalance", [relayer, "latest"]));
      await rpc("anvil_setBalance", [relayer, "0x" + (MIN_BALANCE + (cost * 5n) / 2n).toString(16)]);
      await sleep(1_100); // past the relayer's cached "available"

      const lots = Array.from({ length: 10 }, () => lot("F"));
      const landedFirst: string[] = [];
      const refused: { code: string; r: ApiResponse; nonceBefore: number; nonceAfter: number }[] = [];
      const all: ApiResponse[] = [];
      for (const [i, code] of lots.entries()) {
        const m = members[i % members.length];
        const nonceBefore = await relayerNonce("pending");
        const r = await client(m.token).post("/api/v1/batches", batchBody(m, code));
        all.push(r);
        if (r.status === 201) {
          landedFirst.push(code);
          await sleep(1_100); // a positive balance check is cached for a second
        } else refused.push({ code, r, nonceBefore, nonceAfter: await relayerNonce("pending") });
      }
      for (const x of refused) {
        expect(x.r.status, x.r.text).to.equal(503);
        expect(x.r.body.code).to.equal("relayer_low_balance");
        expect(x.nonceAfter, "no nonce used").to.equal(x.nonceBefore);
      }
      const nonceAtRefusal = await relayerNonce("pending");

      // Top-up: the queue resumes; the refused requests land when resubmitted.
      await rpc("anvil_setBalance", [relayer, "0x" + original.toString(16)]);
      await sleep(1_100);
      const again = await Promise.all(
        refused.map(async (x, i) => {
          const m = members[i % members.length];
          return client(m.token).post("/api/v1/batches", batchBody(m, x.code));
        }),
      );
      all.push(...again);
      for (const r of again) expect(r.status, r.text).to.equal(201);
      const counts = await eventCounts();
      row.requests = 10 + again.length;
      row.fivexx = all.filter(
        (r) => r.status >= 500 && !(r.status === 503 && r.body.code === "relayer_low_balance"),
      ).length;
      row.landed = lots.filter((c) => counts.get(c) === 1).length;
      row.duplicated = lots.filter((c) => (counts.get(c) ?? 0) > 1).length;
      row.lost = 10 - row.landed;
      row.notes = `funded min+2.5 tx (${cost} wei/tx): ${landedFirst.length} landed, ${refused.length} got 503 relayer_low_balance with no nonce used (relayer nonce stayed ${nonceAtRefusal}); after anvil_setBalance all ${refused.length} landed on resubmission`;

      expect(landedFirst.length).to.be.within(2, 4);
      expect(refused.length).to.equal(10 - landedFirst.length);
      expect(row.landed).to.equal(10);
      expect(row.duplicated).to.equal(0);
      expect((await relayerNoncesContiguous()).ok).to.equal(true);
    });
  });

  it("5. a forwarded request that reverts on-chain does not stall the queue: later requests land", async function () {
    await scenario("5 on-chain revert mid-queue", async (row) => {
      await pauseMining();
      const post = (m: Member, code: string, wait = false) =>
        client(m.token).post(`/api/v1/batches${wait ? "" : "?wait=false"}`, batchBody(m, code));
      // Two registrations of the same lot sent together: both simulate fine (neither is pending yet),
      // so one reverts on-chain. The node's estimate may already see the first one pending and the
      // duplicate is then refused at acceptance (422): try again with another lot.
      const first: { r: ApiResponse; token: string; code: string }[] = [];
      let dup = "";
      let tries = 0;
      for (;;) {
        dup = lot("X");
        tries++;
        const pair = await Promise.all([post(members[0], dup), post(members[1], dup)]);
        pair.forEach((r, i) => r.status === 202 && first.push({ r, token: members[i].token, code: dup }));
        if (pair.every((r) => r.status === 202)) break;
        for (const r of pair) if (r.status !== 202) expect(r.status, r.text).to.equal(422);
        expect(tries, "duplicate always refused at acceptance").to.be.lessThan(6);
      }
      await waitDepth((d) => d.sent + d.queued === first.length);
      const laterLots = Array.from({ length: 5 }, () => lot("L"));
      const later = await Promise.all(
        laterLots.map(async (code, i) => {
          const m = members[(i + 2) % members.length];
          return { r: await post(m, code), token: m.token, code };
        }),
      );
      first.push(...later);
      await resumeMining();
      for (const { r } of first) expect(r.status, r.text).to.equal(202);
      const final = await settle(first.map((x) => ({ id: x.r.body.operationId as string, token: x.token })));
      // After the revert, a new write is served at once.
      const afterLot = lot("L");
      const after = await post(members[3], afterLot, true);
      const counts = await eventCounts();
      const states = first.map((x) => final.get(x.r.body.operationId)?.state);
      const reverted = first.map((x) => final.get(x.r.body.operationId)).filter((s) => s?.state === "failed");
      row.requests = 2 * tries + laterLots.length + 1;
      row.fivexx = [...first.map((x) => x.r), after].filter((r) => r.status >= 500).length;
      row.landed = states.filter((s) => s === "mined").length + (after.status === 201 ? 1 : 0);
      row.lost = first.filter((x) => !final.has(x.r.body.operationId)).length;
      row.duplicated = [...first.map((x) => x.code), afterLot].filter((c) => (counts.get(c) ?? 0) > 1).length;
      row.notes = `duplicate lot (pair sent together, ${tries} tr${tries === 1 ? "y" : "ies"}): 1 mined, 1 failed '${reverted[0]?.error?.code}' (${reverted[0]?.error?.decoded?.name ?? "?"}); 5 queued behind it + 1 after landed`;

      expect(reverted.length).to.equal(1);
      expect(reverted[0].error.code).to.equal("reverted");
      expect(counts.get(dup)).to.equal(1);
      for (const c of laterLots) expect(counts.get(c), c).to.equal(1);
      expect(row.lost).to.equal(0);
      expect(after.status, after.text).to.equal(201);
      expect(counts.get(afterLot)).to.equal(1);
      expect(row.fivexx).to.equal(0);
    });
  });

  it("6. chain replaced by a fresh one: /health 503, writes 503 contracts_missing, nothing sent", async function () {
    await scenario("6 chain replaced (state lost)", async (row) => {
      await killNode();
      rmSync(node!.stateFile, { force: true });
      await restartNode();
      await sleep(1_200); // past the relayer's cached availability
      const m = members[0];
      const attempts = await Promise.all([
        client(m.token).post("/api/v1/batches", batchBody(m, lot("Z"))),
        client(m.token).post("/api/v1/batches?wait=false", batchBody(m, lot("Z"))),
        client(members[1].token).post("/api/v1/batches", batchBody(members[1], lot("Z"))),
        client(adminToken).post("/api/v1/users", { role: "certifier", displayName: "C" }),
        client(adminToken).post("/api/v1/users", { role: "registrar", displayName: "R2" }),
      ]);
      const health = await client().get("/health");
      await sleep(1_000); // give a wrongly sending relayer time to show it
      const nonce = await relayerNonce("pending");
      const blocks = Number(await rpc<string>("eth_blockNumber"));
      row.requests = attempts.length;
      row.fivexx = attempts.filter(
        (r) => r.status >= 500 && !(r.status === 503 && r.body.code === "contracts_missing"),
      ).length;
      row.notes = `/health ${health.status} (contractsDeployed ${health.body.contractsDeployed}); ${attempts.filter((r) => r.status === 503).length}/${attempts.length} writes 503 ${[...new Set(attempts.map((r) => r.body.code))].join(",")}; fresh node: relayer nonce ${nonce}, ${blocks} blocks`;

      expect(health.status).to.equal(503);
      expect(health.body.contractsDeployed).to.equal(false);
      for (const r of attempts) {
        expect(r.status, r.text).to.equal(503);
        expect(r.body.code).to.equal("contracts_missing");
      }
      expect(nonce).to.equal(0);
      // No transaction in any block of the fresh node (in the interval mode it makes empty blocks on its own).
      for (let b = 0; b <= blocks; b++) {
        const block = await rpc<{ transactions: string[] }>("eth_getBlockByNumber", ["0x" + b.toString(16), false]);
        expect(block.transactions, `block ${b}`).to.deep.equal([]);
      }
      if (TEST_BLOCK_TIME === 0) expect(blocks).to.equal(0);
    });
  });
});
