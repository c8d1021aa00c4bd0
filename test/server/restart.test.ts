/**
 * Restarts: the gateway and its embedded chain stop and start on the same data folder and find
 * everything as it was; a lost chain state is redeployed; the same gateway runs against a separately
 * started node (RPC_URL); a chain reset under a running gateway makes writes answer 503, not 500.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedChain, type EmbeddedChain } from "../../server/chain/embedded";
import { loadConfig } from "../../server/config";
import { createLogger } from "../../server/log";
import { startGateway, StartupError } from "../../server/main";
import { acquireDataDirLock } from "../../server/store/lock";
import { writeDeployment } from "../../server/chain/deploy";
import { startTestChain, type TestChain } from "../helpers/chain";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();

async function ok(p: Promise<{ status: number; text: string; body: any }>, status = 201) {
  const r = await p;
  expect(r.status, r.text).to.equal(status);
  return r.body;
}

/** A registrar, a cooperative with two members, a batch, and a sale paid, shipped and confirmed. */
async function story(t: TestGateway) {
  const registrar = t.api.as((await ok(t.admin.post("/api/v1/users", { role: "registrar", displayName: "R" }))).token);
  const coop = await ok(
    registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Amal des Dattes",
      region: "Errachidia",
      registrationNumber: "ODCO-ERR-7",
      reserveBps: 500,
      admin: { displayName: "Zahra" },
    }),
  );
  const admin = t.api.as(coop.admin.token);
  const members: { client: ApiClient; token: string; userId: string }[] = [];
  for (const name of ["Hadda", "Mina"]) {
    const m = (
      await ok(admin.post(`/api/v1/cooperatives/${coop.cooperativeId}/members`, { displayName: name, reference: name }))
    ).member;
    members.push({ client: t.api.as(m.token), token: m.token, userId: m.userId });
  }
  const batch = await ok(
    members[0].client.post("/api/v1/batches", {
      cooperativeId: coop.cooperativeId,
      productCode: "dates-mejhoul",
      lotCode: "MJ-1",
      quantity: "1000",
      unit: "kg",
      productionDate: day(-3),
      contributors: members.map((m, i) => ({ memberId: m.userId, weight: String(100 * (i + 1)) })),
    }),
  );
  const signup = await ok(t.api.post("/api/v1/buyers", { displayName: "Épicerie" }));
  const buyer = t.api.as(signup.token);
  await ok(buyer.post("/api/v1/faucet"));
  const sale = await ok(
    admin.post("/api/v1/sales", {
      batchId: batch.batchId,
      quantity: "100",
      price: "3000000",
      buyer: signup.user.address,
    }),
  );
  await ok(buyer.post(`/api/v1/sales/${sale.saleId}/fund`));
  await ok(admin.post(`/api/v1/sales/${sale.saleId}/ship`, {}));
  await ok(buyer.post(`/api/v1/sales/${sale.saleId}/confirm`, {}));
  await ok(members[0].client.post("/api/v1/claims", { batchId: batch.batchId, token: "ETH" }));
  return { registrar, admin, members, buyer, cooperativeId: coop.cooperativeId, batchId: batch.batchId, sale };
}

/** What a client sees of the story, read through the API. */
async function snapshot(t: TestGateway, s: Awaited<ReturnType<typeof story>>) {
  return {
    cooperative: (await ok(t.api.get(`/api/v1/cooperatives/${s.cooperativeId}`), 200)) as unknown,
    batches: (await ok(t.api.get("/api/v1/batches?limit=100"), 200)) as unknown,
    batch: (await ok(t.api.get(`/api/v1/batches/${s.batchId}`), 200)) as unknown,
    sale: (await ok(t.api.get(`/api/v1/sales/${s.sale.saleId}`), 200)) as unknown,
    balances: await Promise.all(s.members.map(async (m) => ok(t.api.as(m.token).get("/api/v1/me/balances"), 200))),
    counts: t.gateway.ctx.queries.counts(),
  };
}

describe("gateway restarts", function () {
  this.timeout(180_000);

  describe("stop and start on the same data folder", function () {
    let t: TestGateway | undefined;
    let dataDir: string;
    after(async () => {
      await t?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("serves the same batches, sale, balances and tokens, resumes the index, and accepts new writes", async function () {
      t = await startTestGateway();
      dataDir = t.dataDir;
      const s = await story(t);
      const before = await snapshot(t, s);
      expect((before.sale as { state: string }).state).to.equal("Released");
      expect((before.balances[0] as { claimed: string }[])[0].claimed).not.to.equal("0");
      const adminToken = t.adminToken;
      await t.stop(true);

      t = await startTestGateway({ dataDir });
      expect(t.gateway.firstStart).to.equal(false);
      expect(t.adminToken).to.equal(adminToken);
      expect(t.logs.join("")).not.to.match(/deploying again/);
      const after = await snapshot(t, s);
      expect(after).to.deep.equal(before);
      // Old tokens still work, for every kind of user.
      // (The clients of the story point at the old port: the same tokens, on the new gateway.)
      for (const c of [s.registrar, s.admin, s.buyer, ...s.members.map((m) => m.client)]) {
        expect((await t.api.as(c.token).get("/api/v1/me")).status).to.equal(200);
      }
      const member1 = t.api.as(s.members[1].token);
      // The index resumed where it stopped: a full sync adds nothing.
      await t.gateway.ctx.indexer.syncOnce();
      expect(t.gateway.ctx.queries.counts()).to.deep.equal(before.counts);
      // New writes land, by a member (relayer nonces resumed) and by the buyer (its own account).
      const batch = await ok(
        member1.post("/api/v1/batches", {
          cooperativeId: s.cooperativeId,
          productCode: "dates-mejhoul",
          lotCode: "MJ-2",
          quantity: "50",
          unit: "kg",
          productionDate: day(-1),
          contributors: [{ memberId: s.members[1].userId, weight: "1" }],
        }),
      );
      expect(batch.batchId).to.match(/^0x[0-9a-f]{64}$/);
      const claim = await ok(member1.post("/api/v1/claims", { batchId: s.batchId, token: "ETH" }));
      expect(BigInt(claim.amount)).to.be.greaterThan(0n);
      const counts = t.gateway.ctx.queries.counts();
      expect(counts.batches).to.equal(before.counts.batches + 1);
      expect((await t.api.get("/health")).status).to.equal(200);
    });
  });

  describe("one gateway per data folder", function () {
    let t: TestGateway | undefined;
    after(async () => t?.stop());

    it("refuses a second gateway on a folder in use (also in the same process), naming the holder; free after stop", async function () {
      t = await startTestGateway();
      const dataDir = t.dataDir;
      const config = loadConfig({ NODE_ENV: "test", PORT: "0", DATA_DIR: dataDir });
      let error: unknown;
      try {
        await (await startGateway(config, { log: createLogger("silent") })).stop();
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(StartupError);
      expect((error as Error).message).to.equal(
        `DATA_DIR ${dataDir} is in use by the gateway process ${process.pid} (${path.join(dataDir, "gateway.lock")}, since ${
          JSON.parse(readFileSync(path.join(dataDir, "gateway.lock"), "utf8")).since
        }); stop it first`,
      );
      expect((await t.api.get("/health")).status).to.equal(200);
      await t.stop(true);
      expect(existsSync(path.join(dataDir, "gateway.lock"))).to.equal(false);
      t = await startTestGateway({ dataDir });
      expect(t.gateway.firstStart).to.equal(false);
    });

    it("takes over a lock whose holder is gone or whose pid is reused; never one held on another host", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-lock-"));
      const file = path.join(dir, "gateway.lock");
      const sleeper = spawn("sleep", ["30"]);
      const lines: string[] = [];
      const log = createLogger("warn", { write: (l: string) => void lines.push(l) } as never);
      const holder = (fields: Record<string, unknown>) =>
        writeFileSync(file, JSON.stringify({ host: hostname(), nonce: "n", since: "earlier", ...fields }));
      try {
        await new Promise((r) => sleeper.once("spawn", r));
        const exited = new Promise((r) => sleeper.once("exit", r));
        // A live process, but not the one that took the lock: it started at another time.
        holder({ pid: sleeper.pid, startTime: "1" });
        acquireDataDirLock(dir, { log }).release();
        expect(lines.join("")).to.include(`pid ${sleeper.pid} now belongs to another process`);
        expect(existsSync(file), "released").to.equal(false);
        // The same process, alive with the recorded start time: held.
        holder({
          pid: sleeper.pid,
          startTime: readFileSync(`/proc/${sleeper.pid}/stat`, "utf8").split(") ")[1].split(" ")[19],
        });
        expect(() => acquireDataDirLock(dir, { log })).to.throw(`in use by the gateway process ${sleeper.pid} (`);
        // Gone.
        sleeper.kill("SIGKILL");
        await exited;
        acquireDataDirLock(dir, { log }).release();
        expect(lines.join("")).to.include(`process ${sleeper.pid} is not running`);
        holder({ pid: 1, host: "elsewhere" });
        expect(() => acquireDataDirLock(dir, { log })).to.throw(/in use by the gateway process 1 on host elsewhere/);
        writeFileSync(file, "not a lock");
        expect(() => acquireDataDirLock(dir, { log })).to.throw(/does not name a gateway process/);
      } finally {
        sleeper.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("embedded chain state lost while stopped", function () {
    let t: TestGateway | undefined;
    after(async () => t?.stop());

    it("redeploys the contracts, warns, and serves the new chain", async function () {
      t = await startTestGateway();
      const dataDir = t.dataDir;
      const old = t.api.as((await ok(t.admin.post("/api/v1/users", { role: "registrar", displayName: "R" }))).token);
      await ok(
        old.post("/api/v1/cooperatives", {
          name: "Lost coop",
          region: "Zagora",
          registrationNumber: "Z-0",
          reserveBps: 0,
          admin: { displayName: "A0" },
        }),
      );
      await t.stop(true);
      const stateFile = path.join(dataDir, "chain", "anvil-state.json");
      expect(existsSync(stateFile)).to.equal(true);
      rmSync(stateFile);

      t = await startTestGateway({ dataDir });
      expect(t.logs.join("")).to.match(/"level":40[^\n]*deploying again/);
      const deployment = t.gateway.ctx.deployment;
      expect(await t.provider.getCode(deployment.contracts.SaleEscrow.address)).not.to.equal("0x");
      expect((await t.api.get("/health")).status).to.equal(200);
      // The index forgot the lost chain's cooperative.
      expect((await ok(t.api.get("/api/v1/cooperatives"), 200)).total).to.equal(0);
      // The platform admin's token survived (it lives in SQLite), and it can act on the new chain.
      const registrar = await ok(t.admin.post("/api/v1/users", { role: "registrar", displayName: "R2" }));
      const coop = await ok(
        t.api.as(registrar.token).post("/api/v1/cooperatives", {
          name: "Coop",
          region: "Zagora",
          registrationNumber: "Z-1",
          reserveBps: 0,
          admin: { displayName: "A" },
        }),
      );
      expect(coop.cooperativeId).to.equal(1);
    });
  });

  describe("against a separately started node (RPC_URL)", function () {
    let chain: TestChain | undefined;
    let replacement: EmbeddedChain | undefined;
    let replacementDir: string | undefined;
    let t: TestGateway | undefined;
    after(async () => {
      await t?.stop();
      await replacement?.stop();
      if (replacementDir) rmSync(replacementDir, { recursive: true, force: true });
      await chain?.stop();
    });

    it("serves without rpcUrl in /health and without a faucet; writes land", async function () {
      chain = await startTestChain();
      const dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-gw-"));
      writeDeployment(dataDir, chain.deployed.deployment);
      t = await startTestGateway({
        dataDir,
        env: {
          RPC_URL: chain.chain.rpcUrl,
          CHAIN_ID: "31337",
          RELAYER_KEY: chain.wallets[1].privateKey,
          DEPLOYER_KEY: chain.wallets[0].privateKey,
        },
      });
      expect(t.gateway.ctx.embedded).to.equal(false);
      const health = await t.api.get("/health");
      expect(health.status, health.text).to.equal(200);
      expect(health.body.chainId).to.equal(31337);
      expect(health.body).not.to.have.property("rpcUrl");
      expect(health.text).not.to.include(chain.chain.rpcUrl);
      const signup = await ok(t.api.post("/api/v1/buyers", { displayName: "B" }));
      const faucet = await t.api.as(signup.token).post("/api/v1/faucet");
      expect(faucet.status).to.equal(404);
      const openapi = await ok(t.api.get("/api/v1/openapi.json"), 200);
      expect(openapi.paths).not.to.have.property("/api/v1/faucet");

      const registrar = t.api.as(
        (await ok(t.admin.post("/api/v1/users", { role: "registrar", displayName: "R" }))).token,
      );
      const coop = await ok(
        registrar.post("/api/v1/cooperatives", {
          name: "Coop Henné",
          region: "Tata",
          registrationNumber: "T-1",
          reserveBps: 100,
          admin: { displayName: "A" },
        }),
      );
      expect(coop.cooperativeId).to.equal(1);
      expect(await chain.deployed.registry.isCooperativeAdmin(1, coop.admin.address)).to.equal(true);
    });

    it("answers 503 contracts_missing, never 500, when the chain is reset under it", async function () {
      const gw = t!;
      const registrar = gw.api.as(
        (await ok(gw.admin.post("/api/v1/users", { role: "registrar", displayName: "R3" }))).token,
      );
      const coop = await ok(
        registrar.post("/api/v1/cooperatives", {
          name: "Coop Amandes",
          region: "Tafraout",
          registrationNumber: "T-2",
          reserveBps: 100,
          admin: { displayName: "A2" },
        }),
      );
      const admin = gw.api.as(coop.admin.token);
      const member = await ok(
        admin.post(`/api/v1/cooperatives/${coop.cooperativeId}/members`, { displayName: "M", reference: "m" }),
      );

      // The node is replaced by an empty one on the same port.
      const port = Number(new URL(chain!.chain.rpcUrl).port);
      await chain!.chain.stop();
      // While no node answers: 503 chain_unavailable.
      const down = await admin.post("/api/v1/sales/1/ship", {});
      expect(down.status, down.text).to.equal(503);
      expect(down.body.code).to.equal("chain_unavailable");
      replacementDir = mkdtempSync(path.join(tmpdir(), "cooptrace-reset-"));
      replacement = await startEmbeddedChain({ dataDir: replacementDir, port });
      await new Promise((r) => setTimeout(r, 1_200)); // past the relayer's cached availability

      const attempts = [
        registrar.post("/api/v1/cooperatives", {
          name: "Coop X",
          region: "MA-TIZ",
          registrationNumber: "X-1",
          reserveBps: 0,
          admin: { displayName: "X" },
        }),
        admin.post(`/api/v1/cooperatives/${coop.cooperativeId}/members`, { displayName: "N", reference: "n" }),
        gw.api.as(member.member.token).post("/api/v1/batches", {
          cooperativeId: coop.cooperativeId,
          productCode: "almonds",
          lotCode: "AL-1",
          quantity: "10",
          unit: "kg",
          productionDate: day(-1),
          contributors: [{ memberId: member.member.userId, weight: "1" }],
        }),
        admin.post("/api/v1/sales/1/ship", {}),
        gw.admin.post("/api/v1/users", { role: "certifier", displayName: "C" }),
      ];
      const answers = await Promise.all(attempts);
      for (const r of answers) {
        expect(r.status, r.text).to.equal(503);
        expect(r.body.code, r.text).to.equal("contracts_missing");
      }
      const health = await gw.api.get("/health");
      expect(health.status).to.equal(503);
      // Reads of the index still answer what it knew.
      expect((await gw.api.get(`/api/v1/cooperatives/${coop.cooperativeId}`)).status).to.equal(200);
    });

    it("refuses to start on a node that lacks the recorded contracts, naming the problem", async function () {
      const dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-gw-"));
      try {
        writeDeployment(dataDir, chain!.deployed.deployment);
        const config = loadConfig({
          NODE_ENV: "test",
          PORT: "0",
          DATA_DIR: dataDir,
          RPC_URL: replacement!.rpcUrl,
          CHAIN_ID: "31337",
          RELAYER_KEY: chain!.wallets[1].privateKey,
        });
        let error: unknown;
        try {
          const gw = await startGateway(config, { log: createLogger("silent") });
          await gw.stop();
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(StartupError);
        expect((error as Error).message).to.include(path.join(dataDir, "deployments", "31337.json"));
        expect((error as Error).message).to.match(/no code/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
