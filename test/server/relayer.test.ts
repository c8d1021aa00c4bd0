/**
 * The relayer against a real anvil with the contracts deployed and a real SQLite file: members
 * without ether act through the forwarder; rejected requests leave no trace; batching, on-chain
 * failure inside a batch, fee replacement, crash and node-restart recovery (exactly once), and the
 * unavailable cases. The only double is the custody callback (in-memory wallets).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, ZeroHash } from "ethers";
import { openDatabase, type Db } from "../../server/store/db";
import { createChainClient, type ChainClient } from "../../server/chain/client";
import { freePort, startEmbeddedChain, type EmbeddedChain } from "../../server/chain/embedded";
import {
  createRelayer,
  createRelayPolicy,
  outboxMigrations,
  RelayRefusedError,
  RelayRejectedError,
  RelayerUnavailableError,
  FORWARD_REQUEST_TYPES,
  type Relayer,
  type RelayerOptions,
  type RelayPolicy,
} from "../../server/relayer";
import type { Forwarder } from "../../typechain-types";
import { startTestChain, type TestChain } from "../helpers/chain";
import { captureLogs, createCooperative, randomWallet, type CapturedLogs, type Cooperative } from "../helpers/relayer";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// Both ways of following in-flight transactions: nonce first (real networks), receipts at once (embedded).
for (const eagerReceipts of [false, true])
  describe(`relayer${eagerReceipts ? " (eager receipts)" : ""}`, function () {
    this.timeout(120_000);

    let tc: TestChain;
    let dir: string;
    let coop: Cooperative;
    let forwarder: Forwarder;
    let restartedChain: EmbeddedChain | undefined;
    const open: { relayer?: Relayer; db: Db }[] = [];
    let lotCount = 0;
    const newLot = () => `LOT-${++lotCount}`;

    before(async function () {
      tc = await startTestChain();
      dir = mkdtempSync(path.join(tmpdir(), "cooptrace-relayer-"));
      coop = await createCooperative(tc, 6);
      forwarder = tc.deployed.forwarder.connect(tc.provider);
    });

    after(async function () {
      for (const o of open) {
        await o.relayer?.stop();
        o.db.close();
      }
      await restartedChain?.stop();
      await tc?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    afterEach(async function () {
      await tc.provider.send("evm_setAutomine", [true]);
    });

    async function fundedWallet(eth = 1n): Promise<Wallet> {
      const w = randomWallet().connect(tc.provider);
      await (await tc.wallets[0].sendTransaction({ to: w.address, value: eth * 10n ** 18n })).wait();
      return w;
    }

    interface Harness {
      relayer: Relayer;
      db: Db;
      logs: CapturedLogs;
      file: string;
      wallet: Wallet;
    }

    async function harness(
      opts: {
        file?: string;
        wallet?: Wallet;
        options?: RelayerOptions;
        forwarder?: string;
        provider?: ChainClient;
        policy?: RelayPolicy;
      } = {},
    ): Promise<Harness> {
      const file = opts.file ?? path.join(dir, `outbox-${open.length}.sqlite`);
      const db = openDatabase(file, [outboxMigrations]);
      const client = opts.provider ?? tc.client;
      const wallet = (opts.wallet ?? (await fundedWallet())).connect(tc.provider);
      const logs = captureLogs();
      const relayer = createRelayer({
        db,
        client,
        forwarder: opts.forwarder ?? (await forwarder.getAddress()),
        relayer: wallet,
        signTypedData: coop.custody.signTypedData,
        policy: opts.policy ?? createRelayPolicy(tc.deployed.deployment.contracts),
        log: logs.log,
        options: { pollMs: 20, eagerReceipts, ...opts.options },
      });
      open.push({ relayer, db });
      return { relayer, db, logs, file, wallet };
    }

    const rowCount = (db: Db) => (db.prepare("SELECT COUNT(*) AS n FROM outbox_requests").get() as { n: number }).n;
    const userOf = (member: Wallet) => `user-${member.address}`;

    async function submitBatch(relayer: Relayer, member: Wallet, lot: string) {
      return relayer.submit({
        userId: userOf(member),
        role: "member",
        from: member.address,
        to: await tc.deployed.batches.getAddress(),
        data: await coop.registerBatchData(member, lot),
      });
    }

    async function registrations(lot: string) {
      const { batches } = tc.deployed;
      return batches.queryFilter(batches.filters.BatchRegistered(await coop.batchIdOf(lot)));
    }

    describe("submit", function () {
      it("registers a batch for a member who holds no ether, as the member", async function () {
        const { relayer, db } = await harness();
        await relayer.start();
        const member = coop.members[0];
        const lot = newLot();
        const { id } = await submitBatch(relayer, member, lot);
        const status = await relayer.waitFor(id, 20_000);

        expect(status.state).to.equal("mined");
        expect(status.txHash).to.match(/^0x[0-9a-f]{64}$/);
        const events = await registrations(lot);
        expect(events).to.have.length(1);
        expect(events[0].args.registeredBy).to.equal(member.address);
        expect(events[0].transactionHash).to.equal(status.txHash);
        expect(await tc.provider.getBalance(member.address)).to.equal(0n);
        const receipt = await tc.provider.getTransactionReceipt(status.txHash!);
        console.log(`      one request alone: ${receipt!.gasUsed} gas`);
        expect(await forwarder.nonces(member.address)).to.equal(1n);

        const logs = await relayer.logs(id);
        const parsed = logs.map((l) => tc.deployed.batches.interface.parseLog(l)?.name);
        expect(parsed).to.deep.equal(["BatchRegistered"]);
        expect(rowCount(db)).to.equal(1);
        expect(relayer.depth()).to.deep.equal({ queued: 0, sent: 0 });
        await relayer.stop();
      });

      it("rejects a call that would revert with the decoded custom error, queues nothing and uses no nonce", async function () {
        const { relayer, db } = await harness();
        const member = coop.members[1];
        const lot = newLot();
        const first = await submitBatch(relayer, member, lot);
        await relayer.start();
        expect((await relayer.waitFor(first.id, 20_000)).state).to.equal("mined");
        const rowsBefore = rowCount(db);
        const nonceBefore = await forwarder.nonces(member.address);

        const err = await submitBatch(relayer, member, lot).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(RelayRejectedError);
        const rejected = err as RelayRejectedError;
        expect(rejected.code).to.equal("would_revert");
        expect(rejected.decoded?.name).to.equal("BatchRegistryDuplicateLot");
        expect(rejected.decoded?.args).to.deep.equal([coop.cooperativeId.toString(), lot]);
        expect(rowCount(db)).to.equal(rowsBefore);
        expect(await forwarder.nonces(member.address)).to.equal(nonceBefore);
        await relayer.stop();
      });

      it("rejects a target that does not trust the forwarder", async function () {
        // A deployment file naming an address that does not trust the forwarder (the allow-list
        // lets it through as "SaleEscrow"): the trust check still stands behind the allow-list.
        const contracts = tc.deployed.deployment.contracts;
        const { relayer, db } = await harness({
          policy: createRelayPolicy({ ...contracts, SaleEscrow: { address: tc.wallets[5].address } }),
        });
        const member = coop.members[0];
        const data = tc.deployed.escrow.interface.encodeFunctionData("release", [1n]);
        const err = await relayer
          .submit({ userId: userOf(member), role: "member", from: member.address, to: tc.wallets[5].address, data })
          .catch((e: unknown) => e);
        expect(err).to.be.instanceOf(RelayRejectedError);
        expect((err as RelayRejectedError).code).to.equal("untrusted_target");
        expect(rowCount(db)).to.equal(0);
      });

      it("relays a request the member signed itself (self-custody)", async function () {
        const { relayer } = await harness();
        await relayer.start();
        const member = coop.members[5];
        const lot = newLot();
        const to = await tc.deployed.batches.getAddress();
        const data = await coop.registerBatchData(member, lot);
        const { chainId } = await tc.provider.getNetwork();
        const domain = {
          name: "CoopTraceForwarder",
          version: "1",
          chainId,
          verifyingContract: await forwarder.getAddress(),
        };
        // Within the relayer's bound: the simulation's estimate (from the forwarder, signer appended) + 25%.
        const estimate = await tc.provider.estimateGas({
          from: await forwarder.getAddress(),
          to,
          data: data + member.address.slice(2),
        });
        const gas = estimate + estimate / 4n;
        const request = {
          from: member.address,
          to,
          value: 0n,
          gas,
          nonce: await forwarder.nonces(member.address),
          deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
          data,
        };
        const signature = await member.signTypedData(domain, FORWARD_REQUEST_TYPES, request);

        const forged = await relayer
          .submitSigned({ userId: "self", role: "member", request: { ...request, gas: gas + 1n, signature } })
          .catch((e: unknown) => e);
        expect((forged as RelayRejectedError).code).to.equal("invalid_signature");

        const signedBefore = coop.custody.signed();
        const { id } = await relayer.submitSigned({
          userId: "self",
          role: "member",
          request: { ...request, signature },
        });
        const status = await relayer.waitFor(id, 20_000);
        expect(status.state).to.equal("mined");
        expect(coop.custody.signed()).to.equal(signedBefore);
        const events = await registrations(lot);
        expect(events.map((e) => e.args.registeredBy)).to.deep.equal([member.address]);
        await relayer.stop();
      });
    });

    describe("admission (allow-list, gas bound, daily budget)", function () {
      async function signedRequest(member: Wallet, to: string, data: string, gas: bigint) {
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
          gas,
          nonce: await forwarder.nonces(member.address),
          deadline: BigInt(Math.floor(Date.now() / 1000) + 600),
          data,
        };
        return { ...request, signature: await member.signTypedData(domain, FORWARD_REQUEST_TYPES, request) };
      }

      it("refuses foreign contracts, view calls and other roles' functions on both paths, before asking the node", async function () {
        // A provider that cannot answer: a refusal must come from the allow-list alone.
        const dead = createChainClient(`http://127.0.0.1:${await freePort()}`, 31337, 20);
        const { relayer, db, logs } = await harness({ provider: dead, options: { rpcTimeoutMs: 2_000 } });
        const member = coop.members[4];
        const { escrow, batches } = tc.deployed;
        const escrowAddress = await escrow.getAddress();
        const cases: { what: string; role: "member" | "buyer"; to: string; data: string; reason: string }[] = [
          {
            what: "a contract of the member's own",
            role: "member",
            to: tc.wallets[6].address,
            data: "0x12345678",
            reason: "foreign_contract",
          },
          {
            what: "the forwarder itself",
            role: "member",
            to: await forwarder.getAddress(),
            data: forwarder.interface.encodeFunctionData("nonces", [member.address]),
            reason: "foreign_contract",
          },
          {
            what: "a view function",
            role: "member",
            to: escrowAddress,
            data: escrow.interface.encodeFunctionData("saleCount"),
            reason: "view_function",
          },
          { what: "no selector", role: "member", to: escrowAddress, data: "0x", reason: "no_function" },
          {
            what: "another role's function",
            role: "member",
            to: escrowAddress,
            data: escrow.interface.encodeFunctionData("resolveDispute", [1n, 5000, ZeroHash]),
            reason: "function_not_allowed",
          },
          {
            what: "a buyer registering a batch",
            role: "buyer",
            to: await batches.getAddress(),
            data: await coop.registerBatchData(member, newLot()),
            reason: "function_not_allowed",
          },
        ];
        for (const c of cases) {
          const custodial = await relayer
            .submit({ userId: userOf(member), role: c.role, from: member.address, to: c.to, data: c.data })
            .catch((e: unknown) => e);
          expect(custodial, c.what).to.be.instanceOf(RelayRefusedError);
          expect((custodial as RelayRefusedError).code, c.what).to.equal("relay_not_allowed");
          expect((custodial as RelayRefusedError).reason, c.what).to.equal(c.reason);
          const request = await signedRequest(member, c.to, c.data, 14_000_000n);
          const signed = await relayer
            .submitSigned({ userId: userOf(member), role: c.role, request })
            .catch((e: unknown) => e);
          expect((signed as RelayRefusedError).code, c.what).to.equal("relay_not_allowed");
          expect((signed as RelayRefusedError).reason, c.what).to.equal(c.reason);
        }
        expect(rowCount(db)).to.equal(0);
        expect(logs.entries().filter((e) => e.msg === "relay refused: not allowed")).to.have.length(cases.length * 2);
        dead.destroy();
      });

      it("refuses a signed gas far above the simulation's estimate (gas_too_high), accepts it within the margin", async function () {
        const { relayer, db } = await harness();
        const member = coop.members[4];
        const to = await tc.deployed.batches.getAddress();
        const data = await coop.registerBatchData(member, newLot());
        const estimate = await tc.provider.estimateGas({
          from: await forwarder.getAddress(),
          to,
          data: data + member.address.slice(2),
        });
        const tooHigh = await relayer
          .submitSigned({
            userId: userOf(member),
            role: "member",
            request: await signedRequest(member, to, data, estimate * 2n + 200_000n),
          })
          .catch((e: unknown) => e);
        expect(tooHigh).to.be.instanceOf(RelayRejectedError);
        expect((tooHigh as RelayRejectedError).code).to.equal("gas_too_high");
        expect(rowCount(db)).to.equal(0);
        await relayer.submitSigned({
          userId: userOf(member),
          role: "member",
          request: await signedRequest(member, to, data, estimate + estimate / 4n),
        });
        expect(rowCount(db)).to.equal(1);
      });

      it("keeps each user within its daily gas budget, custodial and signed alike", async function () {
        const { relayer, db } = await harness({ options: { userDailyGas: 1_000_000n } });
        const member = coop.members[3];
        const to = await tc.deployed.batches.getAddress();
        const accepted: string[] = [];
        let refused: unknown;
        for (let i = 0; i < 10 && refused === undefined; i++) {
          await submitBatch(relayer, member, newLot()).then(
            ({ id }) => accepted.push(id),
            (e: unknown) => (refused = e),
          );
        }
        expect(accepted.length).to.be.greaterThan(0);
        expect(refused).to.be.instanceOf(RelayRefusedError);
        const err = refused as RelayRefusedError;
        expect(err.code).to.equal("gas_budget_exceeded");
        expect(err.retryAfterSeconds).to.be.within(1, 86_400);
        const gas = db
          .prepare("SELECT gas FROM outbox_requests WHERE user_id = ?")
          .all(userOf(member))
          .map((r) => BigInt((r as { gas: string }).gas));
        expect(gas).to.have.length(accepted.length);
        expect(gas.reduce((a, b) => a + b, 0n) <= 1_000_000n).to.equal(true);
        // The member's own signature draws on the same budget.
        const data = await coop.registerBatchData(member, newLot());
        const signed = await relayer
          .submitSigned({
            userId: userOf(member),
            role: "member",
            request: await signedRequest(member, to, data, 1_000_000n),
          })
          .catch((e: unknown) => e);
        expect((signed as RelayRefusedError).code).to.equal("gas_budget_exceeded");
        // Another user has a budget of its own.
        await submitBatch(relayer, coop.members[2], newLot());
        expect(rowCount(db)).to.equal(accepted.length + 1);
      });
    });

    describe("batching", function () {
      it("sends 20 queued requests from 5 members in fewer transactions, and all land", async function () {
        const { relayer, db, logs } = await harness();
        await relayer.start();
        await tc.provider.send("evm_setAutomine", [false]);
        const members = coop.members.slice(0, 5);
        const lots = Array.from({ length: 20 }, () => newLot());
        const ids = (await Promise.all(lots.map((lot, i) => submitBatch(relayer, members[i % 5], lot)))).map(
          (r) => r.id,
        );

        while (relayer.depth().queued + relayer.depth().sent > 0) {
          await until("a transaction in flight", () => relayer.depth().sent > 0 || relayer.depth().queued === 0);
          await tc.provider.send("evm_mine", []);
          await sleep(100);
        }
        const statuses = ids.map((id) => relayer.status(id)!);
        expect(statuses.map((s) => s.state)).to.deep.equal(Array(20).fill("mined"));
        const hashes = new Set(statuses.map((s) => s.txHash!));
        expect(hashes.size).to.be.lessThan(20);
        for (const lot of lots) expect(await registrations(lot)).to.have.length(1);

        let gasUsed = 0n;
        for (const h of hashes) {
          const [receipt, tx] = await Promise.all([
            tc.provider.getTransactionReceipt(h),
            tc.provider.getTransaction(h),
          ]);
          expect(receipt!.status).to.equal(1);
          expect(tx!.gasLimit <= 1n << 24n).to.equal(true);
          expect(receipt!.gasUsed < tx!.gasLimit).to.equal(true);
          gasUsed += receipt!.gasUsed;
        }
        console.log(`      20 requests in ${hashes.size} transactions, ${gasUsed / 20n} gas per request`);

        // No signature or raw transaction ever reaches the logs.
        const signatures = db.prepare("SELECT signature FROM outbox_requests WHERE signature IS NOT NULL").all() as {
          signature: string;
        }[];
        expect(signatures.length).to.be.greaterThan(0);
        const text = logs.lines.join("\n").toLowerCase();
        for (const { signature } of signatures) expect(text).not.to.include(signature.slice(2, 66).toLowerCase());
        expect(text).not.to.match(/0x[0-9a-f]{200,}/);
        await relayer.stop();
      });

      it("fails only the request that reverts inside a batch; the others land", async function () {
        const { relayer } = await harness();
        const [a, b, c] = coop.members;
        const shared = newLot();
        const other = newLot();
        // Both registrations of `shared` pass simulation; only the first can run.
        const r1 = await submitBatch(relayer, a, shared);
        const r2 = await submitBatch(relayer, b, shared);
        const r3 = await submitBatch(relayer, c, other);
        await relayer.start();
        const [s1, s2, s3] = await Promise.all([r1, r2, r3].map((r) => relayer.waitFor(r.id, 20_000)));

        expect([s1.state, s2.state, s3.state]).to.deep.equal(["mined", "failed", "mined"]);
        expect(s1.txHash).to.equal(s2.txHash);
        expect(s3.txHash).to.equal(s1.txHash);
        expect(s2.error?.code).to.equal("reverted");
        expect(s2.error?.decoded?.name).to.equal("BatchRegistryDuplicateLot");
        expect(await relayer.logs(r2.id)).to.deep.equal([]);
        const events = await registrations(shared);
        expect(events.map((e) => e.args.registeredBy)).to.deep.equal([a.address]);
        expect(await registrations(other)).to.have.length(1);
        await relayer.stop();
      });
    });

    describe("replacement", function () {
      it("replaces a transaction not mined in time at the same nonce with higher fees; one execution", async function () {
        const { relayer, wallet } = await harness({ options: { replaceAfterMs: 300 } });
        await relayer.start();
        await tc.provider.send("evm_setAutomine", [false]);
        const member = coop.members[2];
        const lot = newLot();
        const nonceBefore = await forwarder.nonces(member.address);
        const { id } = await submitBatch(relayer, member, lot);
        const status = await until("a replacement", () => {
          const s = relayer.status(id)!;
          return (s.txHashes?.length ?? 0) >= 2 ? s : undefined;
        });
        const [h1, h2] = status.txHashes!;
        const first = (await tc.provider.send("eth_getTransactionByHash", [h1])) as Record<string, string> | null;
        const second = await tc.provider.getTransaction(h2);
        expect(second).to.not.equal(null);
        expect(second!.nonce).to.equal(await tc.provider.getTransactionCount(wallet.address, "latest"));
        // The node keeps only the replacement in its pool.
        expect(first).to.equal(null);
        const pool = (await tc.provider.send("txpool_content", [])) as {
          pending: Record<string, Record<string, unknown>>;
        };
        expect(Object.keys(pool.pending[wallet.address.toLowerCase()] ?? {})).to.have.length(1);

        await tc.provider.send("evm_mine", []);
        const done = await relayer.waitFor(id, 20_000);
        expect(done.state).to.equal("mined");
        expect(done.txHashes).to.include(done.txHash);
        expect(done.txHash).to.not.equal(h1);
        const mined = await tc.provider.getTransaction(done.txHash!);
        const original = relayer.status(id)!.txHashes![0];
        expect(original).to.equal(h1);
        // Fees bumped ≥ 12.5% at least once between the first version and the mined one.
        const firstFees = await feesOf(h1);
        expect(mined!.maxFeePerGas! * 1000n >= firstFees.maxFee * 1125n).to.equal(true);
        expect(mined!.maxPriorityFeePerGas! * 1000n >= firstFees.maxPriority * 1125n).to.equal(true);
        expect(await registrations(lot)).to.have.length(1);
        expect(await forwarder.nonces(member.address)).to.equal(nonceBefore + 1n);
        await relayer.stop();
      });
    });

    /** Fee fields of a recorded version, read from our own outbox (the node forgot the replaced one). */
    async function feesOf(hash: string): Promise<{ maxFee: bigint; maxPriority: bigint }> {
      for (const o of open) {
        const row = o.db
          .prepare("SELECT max_fee_per_gas, max_priority_fee_per_gas FROM relayer_tx_attempts WHERE hash = ?")
          .get(hash) as { max_fee_per_gas: string; max_priority_fee_per_gas: string } | undefined;
        if (row) return { maxFee: BigInt(row.max_fee_per_gas), maxPriority: BigInt(row.max_priority_fee_per_gas) };
      }
      throw new Error(`no attempt ${hash}`);
    }

    describe("recovery", function () {
      async function sentAndStopped() {
        const first = await harness();
        await first.relayer.start();
        await tc.provider.send("evm_setAutomine", [false]);
        const member = coop.members[3];
        const lot = newLot();
        const { id } = await submitBatch(first.relayer, member, lot);
        const sent = await until("the request sent", () => {
          const s = first.relayer.status(id)!;
          return s.state === "sent" ? s : undefined;
        });
        await first.relayer.stop();
        return { first, member, lot, id, sent };
      }

      it("settles a request sent before a gateway crash exactly once (new relayer, same SQLite file)", async function () {
        const { first, member, lot, id } = await sentAndStopped();
        const nonceBefore = await forwarder.nonces(member.address);
        const second = await harness({ file: first.file, wallet: first.wallet });
        await tc.provider.send("evm_mine", []);
        await second.relayer.start();
        const status = await second.relayer.waitFor(id, 20_000);
        expect(status.state).to.equal("mined");
        expect(await registrations(lot)).to.have.length(1);
        expect(await forwarder.nonces(member.address)).to.equal(nonceBefore + 1n);
        const executed = await forwarder.queryFilter(forwarder.filters.ExecutedForwardRequest(member.address));
        expect(executed.filter((e) => e.args.nonce === nonceBefore)).to.have.length(1);
        expect(second.relayer.depth()).to.deep.equal({ queued: 0, sent: 0 });
        await second.relayer.stop();
      });

      it("waits out a node that counts the relayer's nonce before it shows the receipt (no false 'nonce used')", async function () {
        // anvil answers eth_getTransactionCount with the new nonce a moment before the block and its
        // receipts are stored: here the node keeps each receipt back for 1.5 s after it is first asked for.
        const firstAsked = new Map<string, number>();
        const real = tc.client;
        const lagging = new Proxy(real, {
          get(target, prop) {
            if (prop === "getTransactionReceipt") {
              return async (hash: string) => {
                const at = firstAsked.get(hash) ?? Date.now();
                firstAsked.set(hash, at);
                return Date.now() - at < 1500 ? null : target.getTransactionReceipt(hash);
              };
            }
            const value = Reflect.get(target, prop, target) as unknown;
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        const { relayer, logs } = await harness({ provider: lagging });
        await relayer.start();
        const member = coop.members[2];
        const lot = newLot();
        const nonceBefore = await forwarder.nonces(member.address);
        const { id } = await submitBatch(relayer, member, lot);
        const status = await relayer.waitFor(id, 20_000);
        expect(status.state).to.equal("mined");
        expect(await registrations(lot)).to.have.length(1);
        expect(await forwarder.nonces(member.address)).to.equal(nonceBefore + 1n);
        expect(logs.entries().filter((e) => /nonce used by another transaction/.test(e.msg))).to.deep.equal([]);
        await relayer.stop();
      });

      it("sends again, while running, a pending transaction the node forgot (long before the replacement timer)", async function () {
        const { relayer, logs } = await harness();
        await relayer.start();
        await tc.provider.send("evm_setAutomine", [false]);
        try {
          const member = coop.members[4];
          const lot = newLot();
          const { id } = await submitBatch(relayer, member, lot);
          const sent = await until("the request sent", () => {
            const st = relayer.status(id)!;
            return st.state === "sent" ? st : undefined;
          });
          await tc.provider.send("anvil_dropTransaction", [sent.txHash]);
          expect(await tc.provider.getTransaction(sent.txHash!)).to.equal(null);
          // Default replaceAfterMs is 30 s: the pool check (every 2 s) must find it missing first.
          await until("the node to know the transaction again", () => tc.provider.getTransaction(sent.txHash!), 10_000);
          expect(logs.entries().some((e) => /forgot a pending relayer transaction/.test(e.msg))).to.equal(true);
          await tc.provider.send("evm_mine", []);
          const status = await relayer.waitFor(id, 20_000);
          expect(status.state).to.equal("mined");
          expect(status.txHash).to.equal(sent.txHash); // the same signed version, not a replacement
          expect(await registrations(lot)).to.have.length(1);
        } finally {
          await tc.provider.send("evm_setAutomine", [true]);
          await relayer.stop();
        }
      });

      it("rebroadcasts a transaction the node dropped from its pool; exactly once", async function () {
        const { first, lot, id, sent } = await sentAndStopped();
        await tc.provider.send("anvil_dropTransaction", [sent.txHash]);
        expect(await tc.provider.getTransaction(sent.txHash!)).to.equal(null);
        const second = await harness({ file: first.file, wallet: first.wallet });
        await second.relayer.start(); // recover() rebroadcasts the stored raw transaction
        expect(await tc.provider.getTransaction(sent.txHash!)).to.not.equal(null);
        await tc.provider.send("evm_mine", []);
        const status = await second.relayer.waitFor(id, 20_000);
        expect(status.state).to.equal("mined");
        expect(status.txHash).to.equal(sent.txHash);
        expect(await registrations(lot)).to.have.length(1);
        await tc.provider.send("evm_mine", []);
        await sleep(200);
        expect(await registrations(lot)).to.have.length(1);
        await second.relayer.stop();
      });

      it("requeues and re-signs a request whose transaction lost its nonce to another; exactly once", async function () {
        const { first, member, lot, id, sent } = await sentAndStopped();
        // The relayer key is used elsewhere: another transaction takes the nonce, ours is dropped.
        await tc.provider.send("anvil_dropTransaction", [sent.txHash]);
        const nonce = await tc.provider.getTransactionCount(first.wallet.address, "latest");
        await (
          await first.wallet.sendTransaction({ to: first.wallet.address, value: 0n, nonce })
        ).hash;
        await tc.provider.send("evm_mine", []);
        await tc.provider.send("evm_setAutomine", [true]);
        const second = await harness({ file: first.file, wallet: first.wallet });
        await second.relayer.start();
        const status = await second.relayer.waitFor(id, 20_000);
        expect(status.state).to.equal("mined");
        expect(status.txHash).to.not.equal(sent.txHash);
        expect(await registrations(lot)).to.have.length(1);
        expect(await forwarder.nonces(member.address)).to.be.greaterThan(0n);
        await second.relayer.stop();
      });

      it("recovers after the node itself restarts (anvil stopped and started on its saved state); exactly once", async function () {
        const { first, lot, id, sent } = await sentAndStopped();
        const port = Number(new URL(tc.chain.rpcUrl).port);
        await tc.chain.stop(); // SIGINT: anvil writes its state; the pending pool is not part of it
        restartedChain = await startEmbeddedChain({ dataDir: tc.dataDir, port });
        expect(await tc.provider.getTransaction(sent.txHash!)).to.equal(null); // lost with the pool
        expect(await tc.provider.getCode(await forwarder.getAddress())).to.not.equal("0x");
        const second = await harness({ file: first.file, wallet: first.wallet });
        await second.relayer.start();
        const reconciled = second.logs.entries().find((e) => e.msg === "relayer outbox reconciled with the chain");
        expect(reconciled?.rebroadcast).to.equal(1);
        const status = await second.relayer.waitFor(id, 20_000);
        expect(status.state).to.equal("mined");
        expect(await registrations(lot)).to.have.length(1);
        expect(second.relayer.depth()).to.deep.equal({ queued: 0, sent: 0 });
        await second.relayer.stop();
      });
    });

    describe("unavailable", function () {
      it("refuses with relayer_low_balance before any row, and warns", async function () {
        const poor = randomWallet();
        const { relayer, db, logs } = await harness({ wallet: poor });
        const err = await submitBatch(relayer, coop.members[0], newLot()).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(RelayerUnavailableError);
        expect((err as RelayerUnavailableError).code).to.equal("relayer_low_balance");
        expect(rowCount(db)).to.equal(0);
        const warn = logs.entries().find((e) => e.level === 40);
        expect(warn?.msg).to.match(/balance/);
        expect(await relayer.balance()).to.equal(0n);
      });

      it("refuses with contracts_missing when the forwarder address has no code", async function () {
        const nowhere = Wallet.createRandom().address;
        const { relayer, db } = await harness({ forwarder: nowhere });
        const err = await submitBatch(relayer, coop.members[0], newLot()).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(RelayerUnavailableError);
        expect((err as RelayerUnavailableError).code).to.equal("contracts_missing");
        expect(rowCount(db)).to.equal(0);
      });

      it("refuses with chain_unavailable when the node does not answer", async function () {
        const dead = createChainClient(`http://127.0.0.1:${await freePort()}`, 31337);
        try {
          const { relayer, db } = await harness({
            provider: dead,
            forwarder: await forwarder.getAddress(),
            wallet: randomWallet(),
          });
          const err = await submitBatch(relayer, coop.members[0], newLot()).catch((e: unknown) => e);
          expect(err).to.be.instanceOf(RelayerUnavailableError);
          expect((err as RelayerUnavailableError).code).to.equal("chain_unavailable");
          expect(rowCount(db)).to.equal(0);
        } finally {
          dead.destroy();
        }
      });
    });
  });
