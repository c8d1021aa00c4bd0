/**
 * The relayer measures time by the chain's clock, not the host's, on a real anvil and a real SQLite
 * file: with the chain's clock two hours ahead of the host's a custodial write lands with one relayer
 * transaction (a host-clock deadline would be past on the chain: every attempt paid for and skipped),
 * a member-signed request already past on the chain's clock is refused before anything is recorded,
 * and a call valid only at the chain's time of now (its latest block older) is simulated on the
 * pending block and accepted. The only double is the custody callback (in-memory wallets).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { id as hashText } from "ethers";
import { openDatabase, type Db } from "../../server/store/db";
import {
  createRelayer,
  createRelayPolicy,
  outboxMigrations,
  FORWARD_REQUEST_TYPES,
  RelayRejectedError,
  type Relayer,
} from "../../server/relayer";
import { startTestChain, type TestChain } from "../helpers/chain";
import { captureLogs, createCooperative, randomWallet, type Cooperative } from "../helpers/relayer";

const HOURS_AHEAD = 2;

describe("relayer on the chain's clock", function () {
  this.timeout(120_000);

  let tc: TestChain;
  let dir: string;
  let coop: Cooperative;
  let relayer: Relayer;
  let db: Db;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;

  before(async function () {
    tc = await startTestChain();
    dir = mkdtempSync(path.join(tmpdir(), "cooptrace-clock-"));
    coop = await createCooperative(tc, 3);
    // The chain's clock two hours ahead of the host's, as on a network whose clock runs ahead.
    await tc.provider.send("evm_increaseTime", [HOURS_AHEAD * 3600]);
    await tc.provider.send("evm_mine", []);
    const wallet = randomWallet().connect(tc.provider);
    await (await tc.wallets[0].sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
    db = openDatabase(path.join(dir, "outbox.sqlite"), [outboxMigrations]);
    relayer = createRelayer({
      db,
      client: tc.client,
      forwarder: await tc.deployed.forwarder.getAddress(),
      relayer: wallet,
      signTypedData: coop.custody.signTypedData,
      policy: createRelayPolicy(tc.deployed.deployment.contracts),
      log: captureLogs().log,
      options: { pollMs: 20, requestTtlSeconds: 600 },
    });
    await relayer.start();
  });

  after(async function () {
    await relayer?.stop();
    db?.close();
    await tc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function chainTime(): Promise<number> {
    return (await tc.provider.getBlock("latest"))!.timestamp;
  }

  it("lands a custodial write with one relayer transaction while the chain's clock is hours ahead", async function () {
    expect(await chainTime()).to.be.greaterThan(Math.floor(Date.now() / 1000) + 3600);
    const member = coop.members[0];
    const lot = "CLOCK-1";
    const { id } = await relayer.submit({
      userId: `user-${member.address}`,
      role: "member",
      from: member.address,
      to: await tc.deployed.batches.getAddress(),
      data: await coop.registerBatchData(member, lot),
    });
    expect((await relayer.waitFor(id, 20_000)).state).to.equal("mined");
    expect(count("SELECT COUNT(*) AS n FROM relayer_txs")).to.equal(1);
    expect(count("SELECT attempts AS n FROM outbox_requests")).to.equal(0);
    const { batches } = tc.deployed;
    expect(await batches.queryFilter(batches.filters.BatchRegistered(await coop.batchIdOf(lot)))).to.have.length(1);
  });

  it("refuses a member-signed request already past on the chain's clock (not on the host's), recording nothing", async function () {
    const member = coop.members[1];
    const to = await tc.deployed.batches.getAddress();
    const data = await coop.registerBatchData(member, "CLOCK-2");
    const forwarder = tc.deployed.forwarder.connect(tc.provider);
    const { chainId } = await tc.provider.getNetwork();
    const domain = {
      name: "CoopTraceForwarder",
      version: "1",
      chainId,
      verifyingContract: await forwarder.getAddress(),
    };
    const request = {
      from: member.address,
      to,
      value: 0n,
      gas: 500_000n,
      nonce: await forwarder.nonces(member.address),
      // Ten minutes ahead of the host: an hour and fifty minutes past on the chain.
      deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
      data,
    };
    const signature = await member.signTypedData(domain, FORWARD_REQUEST_TYPES, request);
    const rows = count("SELECT COUNT(*) AS n FROM outbox_requests");
    const err = await relayer
      .submitSigned({ userId: "self", role: "member", request: { ...request, signature } })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RelayRejectedError);
    expect((err as RelayRejectedError).code).to.equal("expired");
    expect(count("SELECT COUNT(*) AS n FROM outbox_requests")).to.equal(rows);
  });

  it("accepts an event timed at the chain's now while its latest block is older (simulated on the pending block)", async function () {
    const member = coop.members[2];
    const lot = "CLOCK-3";
    const to = await tc.deployed.batches.getAddress();
    const userId = `user-${member.address}`;
    const registered = await relayer.submit({
      userId,
      role: "member",
      from: member.address,
      to,
      data: await coop.registerBatchData(member, lot),
    });
    expect((await relayer.waitFor(registered.id, 20_000)).state).to.equal("mined");
    // An idle chain: its clock moves on, no block is mined. Now is later than the latest block.
    const latest = await chainTime();
    await tc.provider.send("evm_increaseTime", [120]);
    const eventTime = latest + 60;
    const { batches } = tc.deployed;
    const batchId = await coop.batchIdOf(lot);
    const data = batches.interface.encodeFunctionData("recordEvent", [
      batchId,
      "packing",
      "Kelaat M'Gouna",
      eventTime,
      hashText("doc:clock"),
    ]);
    const { id } = await relayer.submit({ userId, role: "member", from: member.address, to, data });
    expect((await relayer.waitFor(id, 20_000)).state).to.equal("mined");
    const events = await batches.queryFilter(batches.filters.BatchEvent(batchId));
    expect(events.map((e) => Number(e.args.eventTime))).to.deep.equal([eventTime]);
  });
});
