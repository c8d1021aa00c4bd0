/**
 * A buyer's funding through the outbox (issue 15, item 3), on a real gateway, real anvil and real
 * SQLite: POST /sales/{id}/fund answers 202 with an operation at once when asked not to wait, the
 * operation completes once the chain mines; a payment the contract refuses (a cancelled sale, a sale
 * another buyer paid first) answers 422 with the decoded error's name, in simulation or after a mined
 * revert; a gateway restarted while the payment waits finishes it once; an ERC-20 sale's approval and
 * payment are two steps of one operation.
 */
import { expect } from "chai";
import { startTestGateway, type ApiClient, type ApiResponse, type TestGateway } from "../helpers/gateway";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ok<T = any>(p: Promise<ApiResponse<T>>, status = 201): Promise<T> {
  const r = await p;
  expect(r.status, r.text).to.equal(status);
  return r.body;
}

interface Buyer {
  client: ApiClient;
  address: string;
  stablecoin: string;
}

/** A registrar, a cooperative with one member and a batch of 1,000 l to sell from. */
async function seed(t: TestGateway): Promise<{ admin: ApiClient; batchId: string }> {
  const registrar = t.api.as((await ok(t.admin.post("/api/v1/users", { role: "registrar", displayName: "R" }))).token);
  const coop = await ok(
    registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Tighremt des Roses",
      region: "Tinghir",
      registrationNumber: "ODCO-TIN-15",
      reserveBps: 500,
      admin: { displayName: "Itto" },
    }),
  );
  const admin = t.api.as(coop.admin.token);
  const member = (
    await ok(admin.post(`/api/v1/cooperatives/${coop.cooperativeId}/members`, { displayName: "Hadda", reference: "H" }))
  ).member;
  const batch = await ok(
    t.api.as(member.token).post("/api/v1/batches", {
      cooperativeId: coop.cooperativeId,
      productCode: "rose-water",
      lotCode: "RW-15",
      quantity: "1000",
      unit: "l",
      productionDate: day(-2),
      contributors: [{ memberId: member.userId, weight: "100" }],
    }),
  );
  return { admin, batchId: batch.batchId };
}

/** A buyer with test money from the faucet (ETH and the demo stablecoin). */
async function newBuyer(t: TestGateway, name: string): Promise<Buyer> {
  const signup = await ok(t.api.post("/api/v1/buyers", { displayName: name }));
  const client = t.api.as(signup.token);
  const faucet = await ok(client.post("/api/v1/faucet"));
  return { client, address: signup.user.address, stablecoin: faucet.stablecoin.address };
}

describe("a buyer's funding through the outbox", function () {
  this.timeout(180_000);
  let t: TestGateway;
  let admin: ApiClient;
  let batchId: string;

  async function automine(on: boolean): Promise<void> {
    await t.provider.send("evm_setAutomine", [on]);
  }

  /** Transactions waiting in the node's pool. */
  async function poolSize(): Promise<number> {
    const status = (await t.provider.send("txpool_status", [])) as { pending: string };
    return Number(status.pending);
  }

  async function waitForPool(n: number): Promise<void> {
    const end = Date.now() + 15_000;
    while ((await poolSize()) < n) {
      if (Date.now() > end) throw new Error(`the pool never held ${n} transaction(s)`);
      await sleep(50);
    }
  }

  async function offer(price: bigint, token = "ETH", buyer?: string): Promise<number> {
    const body = { batchId, quantity: "10", price: price.toString(), token, ...(buyer ? { buyer } : {}) };
    return Number((await ok(admin.post("/api/v1/sales", body))).saleId);
  }

  async function settled(client: ApiClient, operationId: string): Promise<any> {
    const end = Date.now() + 20_000;
    for (;;) {
      const op = await ok(client.get(`/api/v1/operations/${operationId}`), 200);
      if (op.state === "mined" || op.state === "failed") return op;
      if (Date.now() > end) throw new Error(`operation ${operationId} still ${op.state}`);
      await sleep(100);
    }
  }

  const saleState = async (saleId: number) => Number((await t.contracts.escrow.getSale(saleId)).state);
  const FUNDED = 2;

  /** What a mined transaction cost its sender in gas. */
  async function gasPaid(hash: string): Promise<bigint> {
    const receipt = (await t.provider.getTransactionReceipt(hash))!;
    return receipt.gasUsed * receipt.gasPrice;
  }

  async function indexedState(saleId: number): Promise<string> {
    const end = Date.now() + 10_000;
    for (;;) {
      const sale = await ok(t.api.get(`/api/v1/sales/${saleId}`), 200);
      if (sale.state !== "Created" || Date.now() > end) return sale.state;
      await sleep(100);
    }
  }

  before(async () => {
    t = await startTestGateway();
    ({ admin, batchId } = await seed(t));
  });

  afterEach(async () => {
    if (t !== undefined) await automine(true);
  });

  after(async () => {
    await t?.stop();
  });

  it("answers 202 with an operation at once, and completes it once the chain mines", async () => {
    const buyer = await newBuyer(t, "Épicerie Ouarzazate");
    const price = 3_000_000n;
    const saleId = await offer(price, "ETH", buyer.address);
    const before = await t.provider.getBalance(buyer.address);
    await automine(false);

    const r = await buyer.client.post(`/api/v1/sales/${saleId}/fund?wait=false`);
    expect(r.status, r.text).to.equal(202);
    expect(r.body.operationId).to.match(/^[0-9a-f-]{36}$/);
    expect(r.headers.get("location")).to.equal(`/api/v1/operations/${r.body.operationId}`);
    expect(r.body.status).to.equal("sent");
    expect(r.body.transactions).to.have.length(1);
    const pending = await ok(buyer.client.get(`/api/v1/operations/${r.body.operationId}`), 200);
    expect(pending.state).to.equal("sent");
    expect(await saleState(saleId)).to.equal(1); // Created: nothing mined yet
    await waitForPool(1);

    await automine(true);
    await t.provider.send("evm_mine", []);
    const op = await settled(buyer.client, r.body.operationId);
    expect(op.state, JSON.stringify(op)).to.equal("mined");
    expect(op.txHash).to.equal(r.body.transactions[0]);
    expect(await saleState(saleId)).to.equal(FUNDED);
    expect(await indexedState(saleId)).to.equal("Funded");
    const after = await t.provider.getBalance(buyer.address);
    expect(before - after).to.equal(price + (await gasPaid(op.txHash)));
  });

  it("answers 201 with the operation, the transaction and the decoded events by default", async () => {
    const buyer = await newBuyer(t, "Souk Rissani");
    const saleId = await offer(2_000_000n, "ETH", buyer.address);
    const funded = await ok(buyer.client.post(`/api/v1/sales/${saleId}/fund`));
    expect(funded.status).to.equal("mined");
    expect(funded.operationId).to.be.a("string");
    expect(funded.transactions).to.deep.equal([funded.txHash]);
    expect(funded.events.map((e: { name: string }) => e.name)).to.include("SaleFunded");
    // Paying twice is refused before anything is sent.
    const again = await buyer.client.post(`/api/v1/sales/${saleId}/fund`);
    expect(again.status, again.text).to.equal(422);
    expect(again.body.code).to.equal("SaleEscrowInvalidState");
  });

  it("answers 422 insufficient_funds to a buyer who cannot pay, and records nothing", async () => {
    const signup = await ok(t.api.post("/api/v1/buyers", { displayName: "Sans le sou" }));
    const poor = t.api.as(signup.token); // no faucet: no ETH, no stablecoin
    for (const token of ["ETH", (await newBuyer(t, "Témoin")).stablecoin]) {
      const saleId = await offer(1_000n, token, signup.user.address);
      const r = await poor.post(`/api/v1/sales/${saleId}/fund?wait=false`);
      expect(r.status, r.text).to.equal(422);
      expect(r.body.code).to.equal("insufficient_funds");
      expect(r.body.operationId).to.equal(undefined);
      expect(await saleState(saleId)).to.equal(1);
    }
    expect(await t.provider.getTransactionCount(signup.user.address, "pending")).to.equal(0);
  });

  it("answers 422 with the decoded error when a pending cancellation mines first", async () => {
    const buyer = await newBuyer(t, "Coopérative d'achat Zagora");
    const saleId = await offer(1_000_000n, "ETH", buyer.address);
    const before = await t.provider.getBalance(buyer.address);
    await automine(false);
    const cancel = await admin.post(`/api/v1/sales/${saleId}/cancel?wait=false`);
    expect(cancel.status, cancel.text).to.equal(202);
    await waitForPool(1);
    // The sale still reads Created at the latest block; the cancellation waits in the pool.
    expect(await saleState(saleId)).to.equal(1);
    const funding = buyer.client.post(`/api/v1/sales/${saleId}/fund`);
    // Whether the payment's simulation already sees the cancellation or its transaction reverts once
    // mined after it, the answer is the same.
    const mining = (async () => {
      await sleep(1_000);
      await automine(true);
      await t.provider.send("evm_mine", []);
    })();
    const [r] = await Promise.all([funding, mining]);
    expect(r.status, r.text).to.equal(422);
    expect(r.body.code).to.equal("SaleEscrowInvalidState");
    expect(await saleState(saleId)).to.equal(7); // Cancelled
    const after = await t.provider.getBalance(buyer.address);
    // No payment: at most the gas of a reverted transaction, if one was sent.
    const spent = before - after;
    if (r.body.txHash) expect(spent).to.equal(await gasPaid(r.body.txHash));
    else expect(spent).to.equal(0n);
  });

  it("fails the payment that mines second with the decoded reason, and takes only its gas", async () => {
    const a = await newBuyer(t, "Acheteur A");
    const b = await newBuyer(t, "Acheteur B");
    const price = 1_500_000n;
    const saleId = await offer(price); // open to any buyer
    const balances = [await t.provider.getBalance(a.address), await t.provider.getBalance(b.address)];
    await automine(false);
    // Both are accepted while neither is mined: each simulation alone succeeds.
    const [ra, rb] = await Promise.all([
      a.client.post(`/api/v1/sales/${saleId}/fund?wait=false`),
      b.client.post(`/api/v1/sales/${saleId}/fund?wait=false`),
    ]);
    const accepted = [ra, rb].filter((r) => r.status === 202);
    const refused = [ra, rb].filter((r) => r.status === 422);
    expect(accepted.length + refused.length, `${ra.text} ${rb.text}`).to.equal(2);
    for (const r of refused) expect(r.body.code).to.equal("SaleEscrowInvalidState");
    await waitForPool(accepted.length);
    await automine(true);
    await t.provider.send("evm_mine", []);
    const ops = await Promise.all(
      [ra, rb].map((r, i) => (r.status === 202 ? settled([a, b][i].client, r.body.operationId) : null)),
    );
    const mined = ops.filter((o) => o?.state === "mined");
    const failed = ops.filter((o) => o?.state === "failed");
    expect(mined, JSON.stringify(ops)).to.have.length(1);
    expect(failed.length + refused.length).to.equal(1);
    for (const f of failed) {
      expect(f.error.code).to.equal("SaleEscrowInvalidState");
      expect(f.error.decoded.name).to.equal("SaleEscrowInvalidState");
      expect(f.txHash).to.be.a("string");
      expect(f.blockNumber).to.be.a("number");
    }
    expect(await saleState(saleId)).to.equal(FUNDED);
    for (const [i, op] of ops.entries()) {
      const spent = balances[i] - (await t.provider.getBalance([a, b][i].address));
      if (op === null) expect(spent).to.equal(0n);
      else if (op.state === "mined") expect(spent).to.equal(price + (await gasPaid(op.txHash)));
      else expect(spent).to.equal(await gasPaid(op.txHash)); // its gas only: nothing paid, nothing to refund
    }
  });

  it("answers the waiting payment that mines second 422 with the decoded error, the first 201", async () => {
    const a = await newBuyer(t, "Acheteur C");
    const b = await newBuyer(t, "Acheteur D");
    const saleId = await offer(1_200_000n);
    await automine(false);
    const paying = Promise.all([a, b].map((x) => x.client.post(`/api/v1/sales/${saleId}/fund`)));
    const mining = (async () => {
      await sleep(1_500);
      await automine(true);
      await t.provider.send("evm_mine", []);
    })();
    const [answers] = await Promise.all([paying, mining]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses, answers.map((r) => r.text).join("\n")).to.deep.equal([201, 422]);
    const refused = answers.find((r) => r.status === 422)!;
    expect(refused.body.code).to.equal("SaleEscrowInvalidState");
    expect(refused.body.error.name).to.equal("SaleEscrowInvalidState");
    expect(await saleState(saleId)).to.equal(FUNDED);
  });

  it("puts an ERC-20 sale's approval and payment under one operation", async () => {
    const buyer = await newBuyer(t, "Droguerie Erfoud");
    const price = 5n * 10n ** 6n;
    const saleId = await offer(price, buyer.stablecoin, buyer.address);
    const r = await buyer.client.post(`/api/v1/sales/${saleId}/fund?wait=false`);
    expect(r.status, r.text).to.equal(202);
    const op = await settled(buyer.client, r.body.operationId);
    expect(op.state, JSON.stringify(op)).to.equal("mined");
    const minedVersions = op.transactions.filter((v: { state: string }) => v.state === "mined");
    expect(minedVersions, JSON.stringify(op)).to.have.length(2); // the approval, then the payment
    expect(op.txHash).to.equal(minedVersions[1].hash);
    const approval = (await t.provider.getTransactionReceipt(minedVersions[0].hash))!;
    expect(approval.to!.toLowerCase()).to.equal(buyer.stablecoin.toLowerCase());
    expect(await saleState(saleId)).to.equal(FUNDED);
    expect(await indexedState(saleId)).to.equal("Funded");
  });

  // Before the restart test: a restarted gateway moves to another port.
  it("sends a mined payment again when a reorganisation takes its block back, and it is paid once", async () => {
    const buyer = await newBuyer(t, "Coopérative d'achat de Zagora");
    const price = 4_000_000n;
    const saleId = await offer(price, "ETH", buyer.address);
    const before = await t.provider.getBalance(buyer.address);
    const snapshot = await t.provider.send("evm_snapshot", []);
    const funded = await ok(buyer.client.post(`/api/v1/sales/${saleId}/fund`));
    expect(funded.status).to.equal("mined");
    // The block that carried the payment goes away (a reorganisation, as anvil can make one).
    await t.provider.send("evm_revert", [snapshot]);
    expect(await saleState(saleId)).to.equal(1); // Created again on the chain
    const end = Date.now() + 30_000;
    let op: any;
    for (;;) {
      op = await ok(buyer.client.get(`/api/v1/operations/${funded.operationId}`), 200);
      if (op.reorgs >= 1 && op.state === "mined" && (await saleState(saleId)) === FUNDED) break;
      if (Date.now() > end) throw new Error(`payment not sent again: ${JSON.stringify(op)}`);
      await sleep(100);
    }
    // The same signed payment, at the same nonce: paid once, with one transaction's gas.
    const receipt = (await t.provider.getTransactionReceipt(op.txHash))!;
    expect(receipt.status).to.equal(1);
    expect(before - (await t.provider.getBalance(buyer.address))).to.equal(price + (await gasPaid(op.txHash)));
  });

  it("finishes a payment pending across a gateway restart, once", async () => {
    const buyer = await newBuyer(t, "Épicerie Tinghir");
    const price = 4_000_000n;
    const saleId = await offer(price, "ETH", buyer.address);
    const before = await t.provider.getBalance(buyer.address);
    await automine(false);
    const r = await buyer.client.post(`/api/v1/sales/${saleId}/fund?wait=false`);
    expect(r.status, r.text).to.equal(202);
    await waitForPool(1);

    // The gateway (and its embedded chain) stops with the payment unmined, then starts on the same data.
    const dataDir = t.dataDir;
    await t.stop(true);
    t = await startTestGateway({ dataDir });
    const op = await settled(t.api.as(buyer.client.token), r.body.operationId);
    expect(op.state, JSON.stringify(op)).to.equal("mined");
    expect(await saleState(saleId)).to.equal(FUNDED);
    const after = await t.provider.getBalance(buyer.address);
    expect(before - after).to.equal(price + (await gasPaid(op.txHash)));
    // Exactly one SaleFunded for the sale on the chain.
    const funded = await t.contracts.escrow.queryFilter(t.contracts.escrow.filters.SaleFunded(saleId));
    expect(funded).to.have.length(1);
  });
});

describe("a buyer's funding not mined in time", function () {
  this.timeout(120_000);
  let t: TestGateway;

  after(async () => {
    await t?.stop();
  });

  it("is replaced with higher fees at the same nonce, and mined once", async () => {
    t = await startTestGateway({ env: { RELAYER_REPLACE_AFTER_SECONDS: "1" } });
    const { admin, batchId } = await seed(t);
    const buyer = await newBuyer(t, "Épicerie Goulmima");
    const price = 2_500_000n;
    const body = { batchId, quantity: "10", price: price.toString(), buyer: buyer.address };
    const saleId = Number((await ok(admin.post("/api/v1/sales", body))).saleId);
    const before = await t.provider.getBalance(buyer.address);
    await t.provider.send("evm_setAutomine", [false]);
    const r = await buyer.client.post(`/api/v1/sales/${saleId}/fund?wait=false`);
    expect(r.status, r.text).to.equal(202);
    // Not mined for over a second: the loop signs a second version with higher fees.
    let op: any;
    const end = Date.now() + 15_000;
    do {
      await sleep(200);
      op = await ok(buyer.client.get(`/api/v1/operations/${r.body.operationId}`), 200);
    } while (op.transactions.length < 2 && Date.now() < end);
    expect(op.transactions.map((v: { state: string }) => v.state)).to.deep.equal(["replaced", "sent"]);
    // The node holds only the new version, at the account's next nonce: it took the place of the first.
    const [first, second] = await Promise.all(
      op.transactions.map((v: { hash: string }) => t.provider.getTransaction(v.hash)),
    );
    expect(first).to.equal(null);
    expect(second!.nonce).to.equal(await t.provider.getTransactionCount(buyer.address, "latest"));
    expect(await t.provider.send("txpool_status", [])).to.deep.include({ pending: "0x1" });

    await t.provider.send("evm_setAutomine", [true]);
    await t.provider.send("evm_mine", []);
    do {
      await sleep(100);
      op = await ok(buyer.client.get(`/api/v1/operations/${r.body.operationId}`), 200);
    } while (op.state !== "mined" && op.state !== "failed" && Date.now() < end + 10_000);
    expect(op.state, JSON.stringify(op)).to.equal("mined");
    expect(op.transactions.filter((v: { state: string }) => v.state === "mined")).to.have.length(1);
    const receipt = (await t.provider.getTransactionReceipt(op.txHash))!;
    expect(before - (await t.provider.getBalance(buyer.address))).to.equal(price + receipt.gasUsed * receipt.gasPrice);
    expect(Number((await t.contracts.escrow.getSale(saleId)).state)).to.equal(2); // Funded
  });
});
