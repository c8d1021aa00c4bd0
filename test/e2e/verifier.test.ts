/**
 * The independent verifier CLI, end to end with real processes: a real gateway (embedded anvil,
 * SQLite) builds a history through its API; `node bin/cooptrace.js verify` runs as a child process
 * and reads only the chain. Then the gateway's index is tampered with: the API serves the forged
 * figures, the CLI still reports the chain's, and with --compare lists every forged field.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { startEmbeddedChain, type EmbeddedChain } from "../../server/chain/embedded";
import { runChecks } from "../../server/verifier/checks";
import { collect, loadDeployment, type Snapshot } from "../../server/verifier/collect";
import { RpcClient } from "../../server/verifier/rpc";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";

const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "cooptrace.js");
const ALLOWED_RPC = ["eth_chainId", "eth_blockNumber", "eth_getCode", "eth_call", "eth_getLogs"];

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();

/** A GTIN-14 with its GS1 check digit. */
function gtin14(first13: string): string {
  const digits = first13.split("").map(Number);
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 3 : 1), 0);
  return first13 + String((10 - (sum % 10)) % 10);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd = ROOT, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function cli(...args: string[]): Promise<Run> {
  const r = await run(process.execPath, [BIN, ...args]);
  if (process.env.DEBUG_VERIFIER)
    console.log(`$ cooptrace ${args.join(" ")}  → exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

describe("independent verifier CLI (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let rpcUrl: string;
  let deploymentFile: string;
  let rose1: string;
  let rose2: string;
  let water: string;
  let childA: string;
  let childB: string;
  const gtinRose = gtin14("0611100000001");
  const gtinWater = gtin14("0611100000002");
  let members: { client: ApiClient; userId: string; address: string }[];
  const C = 2; // the member who claims

  const requestLines = () => t.logs.filter((l) => l.includes('"path":"')).length;

  before(async function () {
    t = await startTestGateway();
    const health = await t.api.get("/health");
    expect(health.status, health.text).to.equal(200);
    rpcUrl = health.body.rpcUrl;
    deploymentFile = path.join(t.dataDir, "deployments", "31337.json");

    const mk = async (role: string) => {
      const r = await t.admin.post("/api/v1/users", { role, displayName: `${role} one` });
      expect(r.status, r.text).to.equal(201);
      return t.api.as(r.body.token);
    };
    const registrar = await mk("registrar");
    const certifier = await mk("certifier");
    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Tighmert des Roses",
      region: "Tinghir",
      registrationNumber: "ODCO-TGH-V1",
      reserveBps: 1000,
      womenLed: true,
      admin: { displayName: "Fatima" },
    });
    expect(coop.status, coop.text).to.equal(201);
    const cooperativeId = coop.body.cooperativeId;
    const coopAdmin = t.api.as(coop.body.admin.token);
    members = [];
    for (const name of ["Aicha", "Khadija", "Itto"]) {
      const r = await coopAdmin.post(`/api/v1/cooperatives/${cooperativeId}/members`, {
        displayName: name,
        reference: `card-${name}`,
      });
      expect(r.status, r.text).to.equal(201);
      members.push({
        client: t.api.as(r.body.member.token),
        userId: r.body.member.userId,
        address: r.body.member.address,
      });
    }
    const ok = (r: { status: number; text: string }) => expect(r.status, r.text).to.equal(201);

    const b1 = await members[0].client.post("/api/v1/batches", {
      cooperativeId,
      productCode: "rose-petals",
      gtin: gtinRose,
      lotCode: "ROSE-1",
      quantity: "100000",
      unit: "g",
      origin: "Kelaat M'Gouna",
      productionDate: day(-3),
      contributors: members.map((m, i) => ({ memberId: m.userId, weight: String(1000 * (i + 1)) })),
    });
    ok(b1);
    rose1 = b1.body.batchId;
    const b2 = await members[1].client.post("/api/v1/batches", {
      cooperativeId,
      productCode: "rose-petals",
      lotCode: "ROSE-2",
      quantity: "50000",
      unit: "g",
      origin: "Bou Thrarar",
      productionDate: day(-3),
      contributors: [
        { memberId: members[0].userId, weight: "500" },
        { memberId: members[2].userId, weight: "700" },
      ],
    });
    ok(b2);
    rose2 = b2.body.batchId;
    ok(
      await members[0].client.post(`/api/v1/batches/${rose1}/events`, {
        bizStep: "urn:cooptrace:bizstep:harvesting",
        location: "KMG",
        eventTime: day(-3),
      }),
    );
    ok(
      await members[1].client.post(`/api/v1/batches/${rose1}/events`, {
        bizStep: "packing",
        location: "KMG",
        eventTime: day(-2),
      }),
    );
    const cert = await certifier.post(`/api/v1/batches/${rose1}/certifications`, {
      scheme: "AOP Rose",
      validUntil: day(300),
    });
    ok(cert);
    const cert2 = await certifier.post(`/api/v1/batches/${rose1}/certifications`, {
      scheme: "Organic",
      validUntil: day(300),
    });
    ok(cert2);
    ok(await certifier.post(`/api/v1/certifications/${cert2.body.certificationId}/revoke`, {}));

    const merged = await members[0].client.post("/api/v1/batches/merge", {
      cooperativeId,
      inputs: [
        { batchId: rose1, quantity: "40000" },
        { batchId: rose2, quantity: "20000" },
      ],
      productCode: "rose-water",
      gtin: gtinWater,
      lotCode: "RW-1",
      quantity: "60",
      unit: "l",
      origin: "Kelaat M'Gouna",
      productionDate: day(-1),
    });
    ok(merged);
    water = merged.body.batchId;
    ok(
      await members[0].client.post(`/api/v1/batches/${water}/events`, {
        bizStep: "urn:cooptrace:bizstep:distilling",
        location: "KMG",
        eventTime: day(-1),
      }),
    );
    const split = await members[0].client.post(`/api/v1/batches/${water}/split`, {
      children: [
        { lotCode: "RW-1-A", quantity: "20" },
        { lotCode: "RW-1-B", quantity: "10" },
      ],
    });
    ok(split);
    childA = split.body.childIds[0];
    childB = split.body.childIds[1];

    const signup = await t.api.post("/api/v1/buyers", { displayName: "Shop" });
    ok(signup);
    const buyer = t.api.as(signup.body.token);
    ok(await buyer.post("/api/v1/faucet"));
    const sell = async (batchId: string, quantity: string, price: string, token = "ETH") => {
      const offer = await coopAdmin.post("/api/v1/sales", {
        batchId,
        quantity,
        token,
        price,
        buyer: signup.body.user.address,
      });
      ok(offer);
      const saleId = Number(offer.body.saleId);
      ok(await buyer.post(`/api/v1/sales/${saleId}/fund`));
      ok(await coopAdmin.post(`/api/v1/sales/${saleId}/ship`, {}));
      ok(await buyer.post(`/api/v1/sales/${saleId}/confirm`, {}));
      return saleId;
    };
    await sell(water, "10", "600000");
    await sell(childA, "5", "333333");
    ok(await members[C].client.post("/api/v1/claims", { batchId: water, token: "ETH" }));
    // A cancelled offer: drawn, then restored.
    const offer = await coopAdmin.post("/api/v1/sales", { batchId: water, quantity: "3", token: "ETH", price: "1000" });
    ok(offer);
    ok(await coopAdmin.post(`/api/v1/sales/${offer.body.saleId}/cancel`, {}));
    // A sale in the demo stablecoin (6 decimals).
    const { demoStablecoin } = JSON.parse(readFileSync(deploymentFile, "utf8"));
    await sell(childB, "4", "12500000", demoStablecoin);
  });

  after(async function () {
    await t?.stop();
  });

  it("verifies a merged batch with sales and a claim: exit 0, every check listed", async function () {
    const before = requestLines();
    const r = await cli("verify", water, "--rpc", rpcUrl, "--deployment", deploymentFile);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    for (const s of [
      "Deployment",
      "chain id 31337 matches",
      "the four contracts have code",
      "getBatch agrees with the registration",
      "Merkle root recomputed from the",
      "follow the merge rule from 2 parents",
      "Event history",
      "distilling",
      "Lineage and mass balance",
      "parent (merge): ROSE-1",
      "child (split): RW-1-A",
      "mass balance holds: drawn 40 ≤ quantity 60 l",
      "sale #1 (Released)",
      "gross 0.0000000000006 ETH = fee 0.000000000000006 ETH",
      "sale #3 (Cancelled)",
      "releasedTotal accumulates",
      "Members' shares",
      "✓ VERIFIED",
    ]) {
      expect(r.stdout).to.include(s);
    }
    expect(r.stdout).not.to.include("✗");
    // No request reached the gateway.
    expect(requestLines()).to.equal(before);
  });

  it("--json prints a machine-readable report, reading the chain through allowed JSON-RPC methods only", async function () {
    const r = await cli("verify", water, "--rpc", rpcUrl, "--deployment", deploymentFile, "--json");
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).to.equal(true);
    expect(report.batchId).to.equal(water);
    expect(report.failed).to.equal(0);
    const ids = report.checks.map((c: { id: string }) => c.id);
    expect(ids).to.include.members([
      "chain-id",
      "contract-code",
      "exists",
      "id",
      "state",
      "cooperative",
      "commitment",
      "merge-rule",
      "events",
      "lineage",
      "mass-balance",
      "sale-1",
      "sale-3",
      "released-ETH",
      "shares-ETH",
    ]);
    expect(Object.keys(report.rpcMethods)).to.satisfy((ms: string[]) => ms.every((m) => ALLOWED_RPC.includes(m)));
    expect(report.facts.kind).to.equal("merge");
    expect(report.facts.quantity).to.equal("60");
    expect(report.facts.drawn).to.equal("40"); // 30 split + 10 sold (3 offered, then restored)
    expect(report.facts.parents.map((p: { batchId: string }) => p.batchId)).to.have.members([rose1, rose2]);
    // The merge rule: weight × drawn / parent total, summed per member.
    const w = (a: string) => report.facts.contributors.find((c: { account: string }) => c.account === a)?.weight;
    expect(w(members[0].address)).to.equal(String((1000n * 40000n) / 6000n + (500n * 20000n) / 1200n));
    expect(w(members[2].address)).to.equal(String((3000n * 40000n) / 6000n + (700n * 20000n) / 1200n));
    const shares = report.checks.find((c: { id: string }) => c.id === "shares-ETH");
    expect(shares.ok).to.equal(true);
  });

  it("flags every kind of inconsistency in the chain facts (the pure checks over a doctored snapshot)", async function () {
    const rpc = new RpcClient(rpcUrl);
    const snap = await collect(rpc, loadDeployment(deploymentFile), { kind: "batchId", input: water, batchId: water });
    expect(runChecks(snap).filter((c) => !c.ok)).to.deep.equal([]);
    const failing = (mutate: (s: Snapshot) => void) => {
      const s = structuredClone(snap);
      mutate(s);
      return runChecks(s)
        .filter((c) => !c.ok)
        .map((c) => c.id);
    };
    expect(failing((s) => (s.nodeChainId = 1))).to.deep.equal(["chain-id"]);
    expect(failing((s) => (s.codeSize.SaleEscrow = 0))).to.deep.equal(["contract-code"]);
    expect(failing((s) => (s.registrations[water].contributors[0].weight += 1n))).to.include.members([
      "commitment",
      "merge-rule",
    ]);
    expect(failing((s) => (s.merges.find((m) => m.batchId === water)!.inputs[0].quantity += 1000n))).to.deep.equal([
      "merge-rule",
    ]);
    expect(failing((s) => (s.onChain[water]!.quantity += 1n))).to.include("state");
    expect(failing((s) => (s.onChain[water]!.drawn += 1n))).to.deep.equal(["mass-balance"]);
    expect(failing((s) => (s.quantityChanges[0].drawnTotal += 1n))).to.deep.equal(["mass-balance"]);
    expect(
      failing((s) => {
        s.sales[0].releases[0].fee += 1n; // still adds up to gross, but not the split rule
        s.sales[0].releases[0].net -= 1n;
      }),
    ).to.include("sale-1");
    expect(failing((s) => (s.sales[0].releases[0].reserve += 1n))).to.deep.equal(["sale-1"]);
    expect(failing((s) => (s.sales[0].created.reserveBps = 500n))).to.include("sale-1");
    expect(failing((s) => (s.sales[0].releases[0].releasedTotal += 1n))).to.deep.equal(["released-ETH"]);
    expect(failing((s) => (s.claims[0].amount += 1n))).to.deep.equal(["shares-ETH"]);
    expect(failing((s) => (s.claimableView[s.claims[0].token][members[0].address] += 1n))).to.deep.equal([
      "shares-ETH",
    ]);
    expect(Object.keys(rpc.used)).to.satisfy((ms: string[]) => ms.every((m) => ALLOWED_RPC.includes(m)));
  });

  it("resolves a GS1 Digital Link by scanning BatchRegistered for GTIN + lot, and shows certifications", async function () {
    const r = await cli(
      "verify",
      `${t.gateway.url}/01/${gtinRose}/10/ROSE-1`,
      "--rpc",
      rpcUrl,
      "--deployment",
      deploymentFile,
    );
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.include(`batch ${rose1}`);
    expect(r.stdout).to.match(/certification #1 "AOP Rose": valid until/);
    expect(r.stdout).to.match(/certification #2 "Organic": REVOKED/);
    expect(r.stdout).to.include("child (merge): RW-1");
    expect(r.stdout).to.include("packing @ KMG");
    const none = await cli(
      "verify",
      `http://example.org/01/${gtinRose}/10/NOPE`,
      "--rpc",
      rpcUrl,
      "--deployment",
      deploymentFile,
    );
    expect(none.code).to.equal(1);
    expect(none.stdout).to.include("no batch registered with GTIN");
    const badCheck = await cli("verify", "http://example.org/01/06111000000010/10/ROSE-1", "--rpc", rpcUrl);
    expect(badCheck.code).to.equal(2);
    expect(badCheck.stderr).to.include("check digit");
  });

  it("verifies a split child from its verify URL: the commitment comes from the ancestor's registration", async function () {
    const r = await cli("verify", `${t.gateway.url}/b/${childA}`, "--rpc", rpcUrl, "--deployment", deploymentFile);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.include("this batch shares it through split of RW-1");
    expect(r.stdout).to.include("parent (split): RW-1");
    expect(r.stdout).to.include("sale #2 (Released)");
  });

  it("shows amounts of a stablecoin sale with the token's symbol and decimals", async function () {
    const r = await cli("verify", childB, "--rpc", rpcUrl, "--deployment", deploymentFile);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.include("sale #4 (Released)");
    // 12.5 dUSD: fee 1% = 0.125, net = 12.375 × 90% = 11.1375, the reserve takes the rest.
    expect(r.stdout).to.include("gross 12.5 dUSD = fee 0.125 dUSD + reserve 1.2375 dUSD + net 11.1375 dUSD");
    expect(r.stdout).to.match(/members' shares in dUSD: 3 contributors, 0\.0 dUSD claimed of 11\.1375 dUSD released/);
  });

  it("finds ./data/deployments/<chainId>.json when --deployment is not given, else exits 2", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-cwd-"));
    try {
      const empty = await run(process.execPath, [BIN, "verify", water, "--rpc", rpcUrl], dir);
      expect(empty.code).to.equal(2);
      expect(empty.stderr).to.include(path.join("data", "deployments", "31337.json"));
      symlinkSync(t.dataDir, path.join(dir, "data"));
      const found = await run(process.execPath, [BIN, "verify", water, "--rpc", rpcUrl], dir);
      expect(found.code, found.stdout + found.stderr).to.equal(0);
      expect(found.stdout).to.include(`deployment ${path.join(dir, "data", "deployments", "31337.json")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is not fooled by a tampered index: the API serves the forged figures, the CLI the chain's; --compare lists them", async function () {
    const db = new Database(path.join(t.dataDir, "cooptrace.sqlite"));
    try {
      db.pragma("busy_timeout = 5000");
      db.prepare("UPDATE ix_batches SET quantity = '999999' WHERE batch_id = ?").run(water);
      db.prepare("UPDATE ix_batch_contributors SET weight = '999999' WHERE batch_id = ? AND account = ?").run(
        water,
        members[C].address,
      );
      db.prepare("UPDATE ix_releases SET net = '1', released_total = '1' WHERE batch_id = ?").run(water);
    } finally {
      db.close();
    }
    const api = await t.api.get(`/api/v1/batches/${water}`);
    expect(api.status).to.equal(200);
    expect(api.body.quantity).to.equal("999999");
    expect(api.body.contributors.find((c: { account: string }) => c.account === members[C].address).weight).to.equal(
      "999999",
    );
    expect(api.body.sales[0].releases[0].net).to.equal("1");

    const plain = await cli("verify", water, "--rpc", rpcUrl, "--deployment", deploymentFile, "--json");
    expect(plain.code, plain.stderr).to.equal(0);
    const facts = JSON.parse(plain.stdout).facts;
    expect(facts.quantity).to.equal("60");
    expect(facts.sales[0].releases[0].net).to.equal("534600");

    const url = `${t.gateway.url}/api/v1/batches/${water}`;
    const cmp = await cli("verify", water, "--rpc", rpcUrl, "--deployment", deploymentFile, "--compare", url);
    expect(cmp.code, cmp.stdout + cmp.stderr).to.equal(1);
    expect(cmp.stdout).to.include(`Comparison with ${url}`);
    expect(cmp.stdout).to.match(/✗ quantity: claimed 999999, chain 60/);
    expect(cmp.stdout).to.match(/✗ available: claimed 999959, chain 20/);
    expect(cmp.stdout).to.include(`✗ contributors[${members[C].address.toLowerCase()}].weight: claimed 999999`);
    expect(cmp.stdout).to.match(/✗ sales\[1\]\.releases\[0x[0-9a-f]{64}#\d+\]\.net: claimed 1, chain 534600/);
    expect(cmp.stdout).to.include("✗ NOT VERIFIED");
    // The chain checks themselves all pass: only the comparison fails.
    expect(cmp.stdout).to.match(/\d+ checks passed, 0 failed, 5 differences/);

    const json = await cli(
      "verify",
      water,
      "--rpc",
      rpcUrl,
      "--deployment",
      deploymentFile,
      "--compare",
      url,
      "--json",
    );
    expect(json.code).to.equal(1);
    const paths = JSON.parse(json.stdout).comparison.differences.map((d: { path: string }) => d.path);
    expect(paths).to.include.members(["quantity", "available"]);

    // An untouched batch compares clean.
    const clean = await cli(
      "verify",
      rose2,
      "--rpc",
      rpcUrl,
      "--deployment",
      deploymentFile,
      "--compare",
      `${t.gateway.url}/api/v1/batches/${rose2}`,
    );
    expect(clean.code, clean.stdout).to.equal(0);
    expect(clean.stdout).to.include("every field it claims matches the chain");
  });

  it("compares the sale times the page serves: a forged shipping period, dispute window, ship-by or dispute-until fails --compare, each named", async function () {
    const saleId = Number((await t.api.get(`/api/v1/batches/${childA}`)).body.sales[0].saleId);
    const forged = {
      shippingPeriod: "shipping_period",
      disputeWindow: "dispute_window",
      shipBy: "ship_by",
      disputeUntil: "dispute_until",
    } as const;
    const db = new Database(path.join(t.dataDir, "cooptrace.sqlite"));
    try {
      db.pragma("busy_timeout = 5000");
      for (const column of Object.values(forged)) {
        db.prepare(`UPDATE ix_sales SET ${column} = ${column} + 3600 WHERE sale_id = ?`).run(saleId);
      }
    } finally {
      db.close();
    }
    const url = `${t.gateway.url}/api/v1/batches/${childA}`;
    const served = (await t.api.get(url.slice(t.gateway.url.length))).body.sales[0];
    const json = await cli(
      "verify",
      childA,
      "--rpc",
      rpcUrl,
      "--deployment",
      deploymentFile,
      "--compare",
      url,
      "--json",
    );
    expect(json.code, json.stdout + json.stderr).to.equal(1);
    const differences = JSON.parse(json.stdout).comparison.differences as { path: string; claimed: unknown }[];
    for (const field of Object.keys(forged) as (keyof typeof forged)[]) {
      const found = differences.find((d) => d.path === `sales[${saleId}].${field}`);
      expect(found, field).not.to.equal(undefined);
      expect(found!.claimed).to.equal(served[field]);
    }
    expect(differences).to.have.length(Object.keys(forged).length);
  });

  it("fails clearly against a node without the contracts (exit 1, no code at) or no node at all (exit 2)", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-verifier-"));
    let other: EmbeddedChain | undefined;
    try {
      other = await startEmbeddedChain({ dataDir: dir });
      const r = await cli("verify", water, "--rpc", other.rpcUrl, "--deployment", deploymentFile);
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(r.stdout).to.include("no code at");
      expect(r.stdout).to.include("✗ NOT VERIFIED");
    } finally {
      await other?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const down = await cli("verify", water, "--rpc", "http://127.0.0.1:9/", "--deployment", deploymentFile, "--json");
    expect(down.code).to.equal(2);
    expect(JSON.parse(down.stdout).error).to.match(/cannot reach the node/);
    const usage = await cli("verify", water);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include("--rpc");
  });

  it("`npx cooptrace --help` runs the package's own bin", async function () {
    const r = await run("npx", ["--offline", "cooptrace", "--help"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("verify [options] <target>");
  });
});
