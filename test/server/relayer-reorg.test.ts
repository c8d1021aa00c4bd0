/**
 * The relayer when the chain changes its mind, on a real anvil and a real SQLite file: blocks that
 * mined relayer transactions taken back (evm_snapshot before, evm_revert after), a relayer nonce
 * taken on the new branch by another transaction, and a relayer that holds requests while the chain
 * moves on (reported stalled). The only double is the custody callback (in-memory wallets).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Wallet } from "ethers";
import { openDatabase, type Db } from "../../server/store/db";
import {
  createRelayer,
  createRelayPolicy,
  outboxMigrations,
  type OperationStatus,
  type Relayer,
  type RelayerOptions,
} from "../../server/relayer";
import { startTestChain, type TestChain } from "../helpers/chain";
import { captureLogs, createCooperative, randomWallet, type Cooperative } from "../helpers/relayer";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("relayer across chain reorganisations", function () {
  this.timeout(120_000);

  let tc: TestChain;
  let dir: string;
  let coop: Cooperative;
  const open: { relayer: Relayer; db: Db }[] = [];
  let lotCount = 0;
  const newLot = () => `REORG-${++lotCount}`;

  before(async function () {
    tc = await startTestChain();
    dir = mkdtempSync(path.join(tmpdir(), "cooptrace-reorg-"));
    coop = await createCooperative(tc, 8);
  });

  after(async function () {
    for (const o of open) {
      await o.relayer.stop();
      o.db.close();
    }
    await tc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    await tc.provider.send("evm_setAutomine", [true]);
  });

  async function harness(options: RelayerOptions = {}) {
    const db = openDatabase(path.join(dir, `outbox-${open.length}.sqlite`), [outboxMigrations]);
    const wallet = randomWallet().connect(tc.provider);
    await (await tc.wallets[0].sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
    const logs = captureLogs();
    const relayer = createRelayer({
      db,
      client: tc.client,
      forwarder: await tc.deployed.forwarder.getAddress(),
      relayer: wallet,
      signTypedData: coop.custody.signTypedData,
      policy: createRelayPolicy(tc.deployed.deployment.contracts),
      log: logs.log,
      options: { pollMs: 20, ...options },
    });
    open.push({ relayer, db });
    await relayer.start();
    return { relayer, db, wallet, logs };
  }

  async function submit(relayer: Relayer, member: Wallet, lot: string) {
    const { id } = await relayer.submit({
      userId: `user-${member.address}`,
      role: "member",
      from: member.address,
      to: await tc.deployed.batches.getAddress(),
      data: await coop.registerBatchData(member, lot),
    });
    return id;
  }

  async function registrations(lot: string) {
    const { batches } = tc.deployed;
    return batches.queryFilter(batches.filters.BatchRegistered(await coop.batchIdOf(lot)));
  }

  /** Settled as the chain shows it now: mined with a receipt that exists at its block, or failed. */
  async function settledOnChain(status: OperationStatus | undefined): Promise<boolean> {
    if (status?.state === "failed") return true;
    if (status?.state !== "mined") return false;
    const receipt = await tc.provider.getTransactionReceipt(status.txHash!);
    return receipt !== null && receipt.blockNumber === status.blockNumber;
  }

  it("sends again what a reorganisation took back: each lands once, none stays mined without its transaction, later writes land", async function () {
    const { relayer, db, wallet } = await harness();
    const snapshot: string = await tc.provider.send("evm_snapshot", []);
    const lots = [newLot(), newLot(), newLot()];
    const ids: string[] = [];
    for (let i = 0; i < lots.length; i++) {
      ids.push(await submit(relayer, coop.members[i], lots[i]));
      expect((await relayer.waitFor(ids[i], 15_000)).state).to.equal("mined");
    }
    const before = ids.map((id) => relayer.status(id)!);
    const chainNonceBefore = await tc.provider.getTransactionCount(wallet.address, "latest");

    await tc.provider.send("evm_revert", [snapshot]);
    expect(await tc.provider.getTransactionCount(wallet.address, "latest")).to.be.lessThan(chainNonceBefore);
    for (const s of before) expect(await tc.provider.getTransactionReceipt(s.txHash!)).to.equal(null);

    // Told as taken back, then settled again on the chain as it is now.
    for (const id of ids) {
      const status = await until(`operation ${id} settled again`, async () => {
        const s = relayer.status(id);
        return s?.reorgs !== undefined && (await settledOnChain(s)) ? s : undefined;
      });
      expect(status.reorgs).to.be.at.least(1);
      expect(status.state).to.equal("mined");
    }
    for (const lot of lots) expect(await registrations(lot)).to.have.length(1);

    const later = [newLot(), newLot()];
    const laterIds = [
      await submit(relayer, coop.members[3], later[0]),
      await submit(relayer, coop.members[4], later[1]),
    ];
    for (const id of laterIds) {
      const s = await relayer.waitFor(id, 15_000);
      expect(s.state).to.equal("mined");
      expect(s.reorgs).to.equal(undefined);
      expect(await settledOnChain(s)).to.equal(true);
    }
    for (const lot of later) expect(await registrations(lot)).to.have.length(1);
    // The allocator agrees with the chain: no nonce handed out that the chain has not used.
    const next = db.prepare("SELECT next_nonce FROM relayer_nonces").get() as { next_nonce: number };
    expect(next.next_nonce).to.equal(await tc.provider.getTransactionCount(wallet.address, "pending"));
  });

  it("re-signs a taken-back request whose relayer nonce another transaction used on the new branch; exactly once", async function () {
    const { relayer, wallet } = await harness();
    const snapshot: string = await tc.provider.send("evm_snapshot", []);
    const lot = newLot();
    const id = await submit(relayer, coop.members[5], lot);
    const first = await relayer.waitFor(id, 15_000);
    expect(first.state).to.equal("mined");
    // Stop the relayer so that the relayer account's own transfer takes the nonce on the new branch.
    await relayer.stop();
    await tc.provider.send("evm_revert", [snapshot]);
    await (await wallet.sendTransaction({ to: wallet.address, value: 0n })).wait();
    await relayer.start();

    const status = await until("the request mined again", async () => {
      const s = relayer.status(id);
      return s?.reorgs !== undefined && (await settledOnChain(s)) ? s : undefined;
    });
    expect(status.state).to.equal("mined");
    expect(status.txHash).not.to.equal(first.txHash);
    expect(await registrations(lot)).to.have.length(1);
  });

  it("reports stalled while it holds requests and the chain mines without them, and recovers", async function () {
    const { relayer, wallet } = await harness({ stallAfterMs: 300, replaceAfterMs: 600_000 });
    expect((await relayer.progress()).stalled).to.equal(false);
    await tc.provider.send("evm_setAutomine", [false]);
    const lot = newLot();
    const id = await submit(relayer, coop.members[6], lot);
    await until("the request sent", () => relayer.status(id)?.state === "sent");
    // The relayer can no longer pay for what it sent: the chain goes on without it.
    const balance = await tc.provider.getBalance(wallet.address);
    await tc.provider.send("anvil_setBalance", [wallet.address, "0x0"]);
    const progress = await until("stalled", async () => {
      await tc.provider.send("evm_mine", []);
      const p = await relayer.progress();
      return p.stalled ? p : undefined;
    });
    expect(progress.pending).to.equal(1);
    expect(progress.oldestPendingSeconds).to.be.a("number");
    expect(relayer.status(id)!.state).to.not.equal("mined");

    await tc.provider.send("anvil_setBalance", [wallet.address, `0x${balance.toString(16)}`]);
    await tc.provider.send("evm_setAutomine", [true]);
    await tc.provider.send("evm_mine", []);
    expect((await relayer.waitFor(id, 30_000)).state).to.equal("mined");
    expect((await relayer.progress()).stalled).to.equal(false);
    expect(await registrations(lot)).to.have.length(1);
  });
});
