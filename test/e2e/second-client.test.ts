/**
 * The story on a second Ethereum client: Hardhat's node (EDR) instead of anvil, reached only through
 * RPC_URL, as a public L2 or a Besu network would be. The gateway deploys the contracts itself on its
 * first start (DEPLOYER_KEY, the one deploy path server/chain/deploy.ts, written to
 * DATA_DIR/deployments/<chainId>.json), then a cooperative, its members, a batch, a sale funded by a
 * buyer from its own account, shipped, confirmed (released) and a member's claim go over HTTP.
 *
 * Nothing here is embedded: no faucet and no demo money (the buyer is paid its ETH by another account
 * of the node), and the platform admin's transactions go out with DEPLOYER_KEY.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, parseEther } from "ethers";
import { freePort } from "../../server/chain/embedded";
import { anvilWallet } from "../helpers/chain";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";

const ROOT = path.join(__dirname, "..", "..");
const HARDHAT_CLI = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();

interface HardhatNode {
  rpcUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function rpcAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * `hardhat node` spawned with node itself (never through npx, whose wrapper does not pass signals on),
 * in the project folder so that it reads hardhat.config.ts (same accounts as anvil: the mnemonic
 * "test test … junk"; chain id 31337).
 */
async function startHardhatNode(): Promise<HardhatNode> {
  const port = await freePort();
  const child = spawn(process.execPath, [HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
  });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-4000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await rpcAnswers(rpcUrl))) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited (${child.exitCode}): ${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`hardhat node did not answer on ${rpcUrl} within 60 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    rpcUrl,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

describe("the story on a second client (Hardhat's node through RPC_URL)", function () {
  this.timeout(300_000);
  let node: HardhatNode | undefined;
  let t: TestGateway;
  let provider: JsonRpcProvider;

  before(async function () {
    node = await startHardhatNode();
    provider = new JsonRpcProvider(node.rpcUrl, 31337, { staticNetwork: true, batchMaxCount: 1 });
    t = await startTestGateway({
      env: {
        RPC_URL: node.rpcUrl,
        CHAIN_ID: "31337",
        RELAYER_KEY: anvilWallet(1).privateKey,
        DEPLOYER_KEY: anvilWallet(0).privateKey,
        // Hardhat's node mines a block per transaction and none in between: a depth above 0 would leave
        // the index waiting for blocks nobody makes (the interval mode of the other suites tests depth).
        CONFIRMATIONS: "0",
      },
    });
  });

  after(async function () {
    provider?.destroy();
    await t?.stop();
    await node?.stop();
  });

  it("deploys through the gateway's deploy path into DATA_DIR/deployments/31337.json", async function () {
    const file = path.join(t.dataDir, "deployments", "31337.json");
    expect(existsSync(file)).to.equal(true);
    const deployment = JSON.parse(readFileSync(file, "utf8")) as {
      chainId: number;
      contracts: Record<string, { address: string; blockNumber: number }>;
      demoMoney?: unknown;
    };
    expect(deployment.chainId).to.equal(31337);
    expect(Object.keys(deployment.contracts)).to.have.members([
      "Forwarder",
      "CooperativeRegistry",
      "BatchRegistry",
      "SaleEscrow",
      "PayoutLedger",
    ]);
    for (const { address } of Object.values(deployment.contracts)) {
      expect(await provider.getCode(address), address).to.not.equal("0x");
    }
    // Not the embedded chain: no demo money was deployed.
    expect(deployment.demoMoney).to.equal(undefined);
    const health = await t.api.get("/health");
    expect(health.status, health.text).to.equal(200);
    expect(health.body.chainId).to.equal(31337);
    // The node is Hardhat's, not anvil: its client version says so.
    expect(await provider.send("web3_clientVersion", [])).to.match(/^HardhatNetwork\//);
  });

  it("registers a cooperative, members and a batch; sells, funds, ships, confirms; a member claims", async function () {
    const mk = async (role: string) => {
      const r = await t.admin.post("/api/v1/users", { role, displayName: `${role} one` });
      expect(r.status, r.text).to.equal(201);
      return t.api.as(r.body.token);
    };
    const registrar = await mk("registrar");
    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Aït Hani des Amandes",
      region: "Tinghir",
      registrationNumber: "ODCO-AH-2",
      reserveBps: 1000,
      admin: { displayName: "Zahra" },
    });
    expect(coop.status, coop.text).to.equal(201);
    const cooperativeId = Number(coop.body.cooperativeId);
    const manager: ApiClient = t.api.as(coop.body.admin.token);

    const members: { client: ApiClient; userId: string; address: string }[] = [];
    for (const name of ["Aicha", "Itto"]) {
      const r = await manager.post(`/api/v1/cooperatives/${cooperativeId}/members`, {
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

    const batch = await members[0].client.post("/api/v1/batches", {
      cooperativeId,
      productCode: "almonds",
      lotCode: "ALM-1",
      quantity: "2000",
      unit: "kg",
      origin: "Aït Hani",
      productionDate: day(-3),
      contributors: [
        { memberId: members[0].userId, weight: "1" },
        { memberId: members[1].userId, weight: "3" },
      ],
    });
    expect(batch.status, batch.text).to.equal(201);
    const batchId = batch.body.batchId as string;
    const read = await t.api.get(`/api/v1/batches/${batchId}`);
    expect(read.status, read.text).to.equal(200);
    expect(read.body.contributors).to.have.length(2);

    // A buyer with its own custodial account, paid its ETH by another of the node's accounts (no faucet).
    const signup = await t.api.post("/api/v1/buyers", { displayName: "Épicerie fine" });
    expect(signup.status, signup.text).to.equal(201);
    const buyer = t.api.as(signup.body.token);
    const payer = anvilWallet(5).connect(provider);
    await (await payer.sendTransaction({ to: signup.body.user.address, value: parseEther("1") })).wait();

    const price = 800_000n;
    const offer = await manager.post("/api/v1/sales", {
      batchId,
      quantity: "500",
      token: "ETH",
      price: String(price),
      buyer: signup.body.user.address,
    });
    expect(offer.status, offer.text).to.equal(201);
    const saleId = Number(offer.body.saleId);
    const funded = await buyer.post(`/api/v1/sales/${saleId}/fund`);
    expect(funded.status, funded.text).to.equal(201);
    const shipped = await manager.post(`/api/v1/sales/${saleId}/ship`, {});
    expect(shipped.status, shipped.text).to.equal(201);
    const confirm = await buyer.post(`/api/v1/sales/${saleId}/confirm`, {});
    expect(confirm.status, confirm.text).to.equal(201);
    const released = confirm.body.events.find((e: { name: string }) => e.name === "SaleReleased");
    // The deploy default fee is 1 %, the cooperative's reserve 10 % of the rest.
    const fee = price / 100n;
    const reserve = ((price - fee) * 1000n) / 10_000n;
    const net = price - fee - reserve;
    expect(released.args).to.include({
      gross: String(price),
      fee: String(fee),
      reserve: String(reserve),
      net: String(net),
    });

    const sale = await t.api.get(`/api/v1/sales/${saleId}`);
    expect(sale.status, sale.text).to.equal(200);
    expect(sale.body.state).to.equal("Released");

    // Itto delivered 3 of the 4 weight units: 3/4 of the net, paid to her address by the escrow.
    const claim = await members[1].client.post("/api/v1/claims", { batchId, token: "ETH" });
    expect(claim.status, claim.text).to.equal(201);
    expect(claim.body.amount).to.equal(String((net * 3n) / 4n));
    expect(await provider.getBalance(members[1].address)).to.equal((net * 3n) / 4n);
  });
});
