/**
 * What an idle gateway asks of its node. The gateway runs on RPC_URL through a counting proxy (a plain
 * HTTP forwarder in front of a real anvil) and every JSON-RPC method it calls is counted while nothing
 * happens: no request, no new block.
 *
 * The reconciler looks again at the receipts of the relayer's transactions of the last 64 blocks, to see
 * a reorganisation take one back; with an unchanged head (same number, same hash) nothing can have
 * changed, and it must ask nothing. IDLE_RPC_SECONDS (default 6) sets the idle window; the counts per
 * method, scaled to a minute, are printed.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { startTestChain, type TestChain } from "../helpers/chain";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";

const IDLE_SECONDS = Number(process.env.IDLE_RPC_SECONDS ?? 6);
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CountingProxy {
  url: string;
  counts: Map<string, number>;
  close(): Promise<void>;
}

/** Forwards every POST to `target` and counts the JSON-RPC methods (batched calls one by one). */
async function countingProxy(target: string): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const parsed = JSON.parse(body) as { method: string } | { method: string }[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          counts.set(call.method, (counts.get(call.method) ?? 0) + 1);
        }
      } catch {
        // not JSON: forwarded as it is
      }
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (r) => {
          res.writeHead(r.status, { "content-type": "application/json" });
          res.end(await r.text());
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("an idle gateway's calls to its node", function () {
  this.timeout(180_000);
  let tc: TestChain;
  let proxy: CountingProxy;
  let t: TestGateway;

  before(async function () {
    // Mining on arrival whatever the suite's mode: the idle window must see no new block.
    tc = await startTestChain({ blockTime: 0 });
    proxy = await countingProxy(tc.chain.rpcUrl);
    t = await startTestGateway({
      env: {
        RPC_URL: proxy.url,
        CHAIN_ID: String(tc.chain.chainId),
        RELAYER_KEY: tc.wallets[1].privateKey,
        DEPLOYER_KEY: tc.wallets[0].privateKey,
        CONFIRMATIONS: "0",
      },
    });
  });

  after(async function () {
    await t?.stop();
    await proxy?.close();
    await tc?.stop();
  });

  it("asks for no receipt while the head does not move, though relayer transactions are in the watched blocks", async function () {
    // A few relayed writes: relayer transactions mined within the reorganisation watch.
    const registrar: ApiClient = t.api.as(
      (await t.admin.post("/api/v1/users", { role: "registrar", displayName: "R" })).body.token,
    );
    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Mhamid des Henné",
      region: "Zagora",
      registrationNumber: "ODCO-MH-3",
      reserveBps: 500,
      admin: { displayName: "Touda" },
    });
    expect(coop.status, coop.text).to.equal(201);
    const manager = t.api.as(coop.body.admin.token);
    const member = await manager.post(`/api/v1/cooperatives/${coop.body.cooperativeId}/members`, {
      displayName: "Mina",
      reference: "card-mina",
    });
    expect(member.status, member.text).to.equal(201);
    const batch = await t.api.as(member.body.member.token).post("/api/v1/batches", {
      cooperativeId: Number(coop.body.cooperativeId),
      productCode: "henna",
      lotCode: "HEN-IDLE-1",
      quantity: "40",
      unit: "kg",
      productionDate: day(-1),
      contributors: [{ memberId: member.body.member.userId, weight: "1" }],
    });
    expect(batch.status, batch.text).to.equal(201);
    const mined = t.gateway.ctx.db.prepare("SELECT COUNT(*) AS n FROM relayer_txs WHERE state = 'mined'").get() as {
      n: number;
    };
    expect(mined.n, "relayer transactions mined").to.be.at.least(2);

    // Let the last write's follow-ups settle, then count over the idle window.
    await sleep(2_500);
    const head = await tc.provider.getBlockNumber();
    proxy.counts.clear();
    await sleep(IDLE_SECONDS * 1000);
    expect(await tc.provider.getBlockNumber(), "no block was made meanwhile").to.equal(head);
    const counts = Object.fromEntries(proxy.counts);
    const perMinute = Object.fromEntries(
      Object.entries(counts).map(([method, n]) => [method, Math.round((n * 60) / IDLE_SECONDS)]),
    );
    const total = Object.values(perMinute).reduce((a, b) => a + b, 0);
    console.log(`      idle RPC calls per minute (window ${IDLE_SECONDS} s): ${total}`, perMinute);
    expect(counts.eth_getTransactionReceipt ?? 0, "receipts asked for on an unchanged head").to.equal(0);
  });
});
