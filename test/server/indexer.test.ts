/**
 * The chain index against a real anvil and a real SQLite file: a cooperative's whole history is
 * driven with ethers, then every projection and query is checked against what was done (and, for
 * money, against the escrow's own views).
 */
import { textToWord } from "../../domain/words";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  Wallet,
  ZeroAddress,
  type Interface,
  id as keccakId,
  parseEther,
  type ContractTransactionResponse,
  type HDNodeWallet,
  type TransactionReceipt,
} from "ethers";
import { anvilWallet as w, startTestChain, type TestChain } from "../helpers/chain";
import { startEmbeddedChain } from "../../server/chain/embedded";
import { createChainClient } from "../../server/chain/client";
import { createLogger } from "../../server/log";
import { openDatabase, type Db } from "../../server/store/db";
import {
  createIndexer,
  createQueries,
  indexMigrations,
  INDEX_TABLES,
  MAX_PAGE_SIZE,
  type ChainRef,
  type Indexer,
  type Queries,
} from "../../server/index";
import {
  buildContributorTree,
  mergeContributors,
  type Contributor,
  type ContributorTree,
  type IndexOf,
} from "../../domain/contributors";
import { indexOfAccounts, infoWords } from "../helpers/fixtures";

/** Account indices of the test's members (read from the registry once they joined). */
let idx: IndexOf;
const treeWith = (list: readonly Contributor[]): ContributorTree => buildContributorTree(list, idx);
import { shareOf, splitRevenue } from "../../domain/split";
import type { DeploymentFile } from "../../server/chain/deploy";
import { BatchRegistry__factory, CooperativeRegistry__factory, SaleEscrow__factory } from "../../typechain-types";

const DAY = 86_400;
const FEE_BPS = 200n;
const STATES = ["None", "Created", "Funded", "Shipped", "Disputed", "Released", "Resolved", "Cancelled", "Refunded"];
const BIZ = (step: string) => `urn:epcglobal:cbv:bizstep:${step}`;
const log = createLogger("silent");
const INTERFACES: Interface[] = [
  CooperativeRegistry__factory.createInterface(),
  BatchRegistry__factory.createInterface(),
  SaleEscrow__factory.createInterface(),
];

async function mined(pending: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await pending).wait();
  if (receipt === null || receipt.status !== 1) throw new Error("transaction failed");
  return receipt;
}

function topicOf(name: string): string {
  for (const iface of INTERFACES) {
    const event = iface.getEvent(name);
    if (event !== null) return event.topicHash;
  }
  throw new Error(`no event ${name}`);
}

/** Sorted rows of every index table: equal dumps mean equal index content. */
function dump(db: Db): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const table of INDEX_TABLES) {
    out[table] = db
      .prepare(`SELECT * FROM ${table}`)
      .all()
      .map((row) => JSON.stringify(row))
      .sort();
  }
  return out;
}

describe("chain index", function () {
  let tc: TestChain;
  let dir: string;
  let db: Db;
  let deployment: DeploymentFile;
  let queries: Queries;
  let indexer: Indexer;
  let admin: HDNodeWallet, registrar: HDNodeWallet, certifier: HDNodeWallet, arbiter: HDNodeWallet;
  let coopAdmin: HDNodeWallet, alice: HDNodeWallet, bob: HDNodeWallet, carol: HDNodeWallet;
  let buyer: HDNodeWallet, feeRecipient: HDNodeWallet;
  const dave = Wallet.createRandom().address;
  const r: Record<string, TransactionReceipt> = {};
  const ids: Record<string, string> = {};
  const trees: Record<string, ContributorTree> = {};
  let stablecoin: string;
  let productionDate: number;
  let now: number;

  async function facts(label: string, event: string, nth = 0): Promise<ChainRef> {
    const receipt = r[label];
    const found = receipt.logs.filter((l) => l.topics[0] === topicOf(event))[nth];
    if (found === undefined) throw new Error(`${label}: no ${event} #${nth}`);
    const block = await tc.provider.getBlock(receipt.blockNumber);
    return {
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      logIndex: found.index,
      blockTime: block!.timestamp,
    };
  }

  async function chainLogCount(): Promise<number> {
    const c = deployment.contracts;
    const logs = await tc.provider.getLogs({
      address: [c.CooperativeRegistry.address, c.BatchRegistry.address, c.SaleEscrow.address],
      fromBlock: c.CooperativeRegistry.blockNumber,
      toBlock: "latest",
    });
    return logs.length;
  }

  async function head(): Promise<number> {
    return tc.provider.getBlockNumber();
  }

  before(async function () {
    this.timeout(300_000);
    dir = mkdtempSync(path.join(tmpdir(), "cooptrace-index-"));
    tc = await startTestChain({
      deploy: {
        registrars: [w(1).address],
        certifiers: [w(2).address],
        arbiters: [w(3).address],
        feeRecipient: w(9).address,
        feeBps: Number(FEE_BPS),
      },
    });
    [admin, registrar, certifier, arbiter, coopAdmin, alice, bob, carol, buyer, feeRecipient] = tc.wallets;
    deployment = tc.deployed.deployment;
    stablecoin = await tc.stablecoin.getAddress();
    db = openDatabase(path.join(dir, "cooptrace.sqlite"), [indexMigrations]);
    queries = createQueries(db);

    const { registry, batches, escrow } = tc.deployed;
    const escrowAddress = await escrow.getAddress();
    now = (await tc.provider.getBlock("latest"))!.timestamp;
    productionDate = now - DAY;

    // Cooperatives and members.
    r.coop1 = await mined(
      registry
        .connect(registrar)
        .registerCooperative(
          "Coopérative Tighmert Roses",
          "Tinghir",
          "ODCO-TGH-2019-0042",
          coopAdmin.address,
          1000,
          true,
        ),
    );
    r.coop2 = await mined(
      registry
        .connect(registrar)
        .registerCooperative(
          "Coopérative Aït Atta Dates",
          "Errachidia",
          "ODCO-ERR-2020-0007",
          admin.address,
          500,
          false,
        ),
    );
    r.addAlice = await mined(registry.connect(coopAdmin).addMember(1, alice.address, keccakId("ref:alice")));
    r.addBob = await mined(registry.connect(coopAdmin).addMember(1, bob.address, keccakId("ref:bob")));
    r.addCarol = await mined(registry.connect(coopAdmin).addMember(1, carol.address, keccakId("ref:carol")));
    r.addDave = await mined(registry.connect(coopAdmin).addMember(1, dave, keccakId("ref:dave")));
    r.removeDave = await mined(registry.connect(coopAdmin).removeMember(1, dave));
    r.reserve = await mined(registry.connect(coopAdmin).setReserveRate(1, 1500));
    r.addCarol2 = await mined(registry.connect(admin).addMember(2, carol.address, keccakId("ref:carol@2")));

    // Batches: two harvests in cooperative 1 (one registered by a member), one in cooperative 2.
    const info = (
      lotCode: string,
      quantity: bigint,
      extra: Partial<{ productCode: string; unit: string; gtin: bigint; origin: string }> = {},
    ) =>
      infoWords({
        productCode: "rose-petals",
        gtin: 0n,
        lotCode,
        quantity,
        unit: "g",
        origin: "Kelaat M'Gouna",
        productionDate: BigInt(productionDate),
        metadataHash: keccakId(`metadata:${lotCode}`),
        ...extra,
      });
    idx = await indexOfAccounts(registry, [alice.address, bob.address, carol.address]);
    trees.B1 = treeWith([
      { account: alice.address, weight: 500_000n },
      { account: bob.address, weight: 300_000n },
      { account: carol.address, weight: 200_000n },
    ]);
    trees.B2 = treeWith([
      { account: alice.address, weight: 100n },
      { account: bob.address, weight: 300n },
    ]);
    trees.B3 = treeWith([{ account: carol.address, weight: 1n }]);
    r.B1 = await mined(batches.connect(coopAdmin).registerBatch(1, info("ROSE-2026-001", 1_000_000n), trees.B1.words));
    r.B2 = await mined(batches.connect(alice).registerBatch(1, info("ROSE-2026-002", 400_000n), trees.B2.words));
    r.B3 = await mined(
      batches
        .connect(admin)
        .registerBatch(
          2,
          info("DATES-2026-001", 5_000n, { productCode: "dates-mejhoul", unit: "kg", origin: "Erfoud" }),
          trees.B3.words,
        ),
    );
    ids.B1 = await batches.batchIdOf(1, textToWord("ROSE-2026-001"));
    ids.B2 = await batches.batchIdOf(1, textToWord("ROSE-2026-002"));
    ids.B3 = await batches.batchIdOf(2, textToWord("DATES-2026-001"));
    r.coop2Admin = await mined(registry.connect(registrar).setCooperativeAdmin(2, registrar.address));

    // Timeline, recorded out of order: commissioning comes last on-chain but first in time.
    r.harvest = await mined(
      batches.connect(alice).recordEvent(ids.B1, BIZ("harvesting"), "Tighmert", now - 3000, keccakId("doc:harvest")),
    );
    r.drying = await mined(
      batches
        .connect(coopAdmin)
        .recordEvent(ids.B1, BIZ("drying"), "Kelaat M'Gouna", now - 2000, keccakId("doc:drying")),
    );
    r.commission = await mined(
      batches.connect(coopAdmin).recordEvent(ids.B1, BIZ("commissioning"), "", now - 5000, keccakId("doc:commission")),
    );

    // Certifications: one revoked, one valid.
    r.cert1 = await mined(
      batches.connect(certifier).certify(ids.B1, "ONSSA organic", keccakId("cert:1"), now + 365 * DAY),
    );
    r.cert2 = await mined(
      batches.connect(certifier).certify(ids.B1, "IGP Rose de Kelaat M'Gouna", keccakId("cert:2"), now + 2 * 365 * DAY),
    );
    r.revoke = await mined(batches.connect(certifier).revokeCertification(1, keccakId("reason:sampling")));

    // Lineage: split B1 into two lots, merge part of B1 and B2 into rose water.
    r.split = await mined(
      batches.connect(coopAdmin).splitBatch(ids.B1, [
        { lotCode: textToWord("ROSE-2026-001-A"), quantity: 200_000n, metadataHash: keccakId("metadata:A") },
        { lotCode: textToWord("ROSE-2026-001-B"), quantity: 100_000n, metadataHash: keccakId("metadata:B") },
      ]),
    );
    ids.C1 = await batches.batchIdOf(1, textToWord("ROSE-2026-001-A"));
    ids.C2 = await batches.batchIdOf(1, textToWord("ROSE-2026-001-B"));
    trees.M = treeWith(
      mergeContributors([
        { contributors: trees.B1.contributors, totalWeight: trees.B1.totalWeight, drawn: 300_000n },
        { contributors: trees.B2.contributors, totalWeight: trees.B2.totalWeight, drawn: 200_000n },
      ]),
    );
    r.merge = await mined(
      batches.connect(coopAdmin).mergeBatches(
        1,
        [
          { batchId: ids.B1, quantity: 300_000n },
          { batchId: ids.B2, quantity: 200_000n },
        ],
        info("ROSE-WATER-2026-01", 700n, { productCode: "rose-water", unit: "l", gtin: 6111234567892n }),
        trees.M.words,
      ),
    );
    ids.M = await batches.batchIdOf(1, textToWord("ROSE-WATER-2026-01"));

    // Sales. 1: ETH, confirmed by the buyer.
    r.s1create = await mined(
      escrow.connect(coopAdmin).createSale(ids.B1, 100_000n, ZeroAddress, parseEther("1"), buyer.address, DAY, DAY),
    );
    r.s1fund = await mined(escrow.connect(buyer).fund(1, { value: parseEther("1") }));
    r.s1ship = await mined(escrow.connect(coopAdmin).markShipped(1, keccakId("ship:1")));
    r.s1confirm = await mined(escrow.connect(buyer).confirmDelivery(1));
    // 2: stablecoin open offer, released by anyone after the dispute window.
    r.s2create = await mined(
      escrow.connect(coopAdmin).createSale(ids.M, 100n, stablecoin, 250_000_000n, ZeroAddress, DAY, DAY),
    );
    await mined(tc.stablecoin.connect(buyer).mint(buyer.address, 255_000_000n));
    await mined(tc.stablecoin.connect(buyer).approve(escrowAddress, 255_000_000n));
    r.s2fund = await mined(escrow.connect(buyer).fund(2));
    r.s2ship = await mined(escrow.connect(coopAdmin).markShipped(2, keccakId("ship:2")));
    await tc.provider.send("evm_increaseTime", [DAY + 1]);
    await tc.provider.send("evm_mine", []);
    r.s2release = await mined(escrow.connect(admin).release(2));
    // 3: ETH on a split lot, disputed and resolved 25 % refund.
    r.s3create = await mined(
      escrow.connect(coopAdmin).createSale(ids.C1, 50_000n, ZeroAddress, parseEther("0.3"), buyer.address, DAY, DAY),
    );
    r.s3fund = await mined(escrow.connect(buyer).fund(3, { value: parseEther("0.3") }));
    r.s3ship = await mined(escrow.connect(coopAdmin).markShipped(3, keccakId("ship:3")));
    r.s3dispute = await mined(escrow.connect(buyer).openDispute(3, keccakId("reason:leak")));
    r.s3resolve = await mined(escrow.connect(arbiter).resolveDispute(3, 2500, keccakId("ruling:3")));
    // 4: an offer withdrawn before funding; 5: a funded sale the seller gives up.
    r.s4create = await mined(
      escrow.connect(coopAdmin).createSale(ids.B2, 10_000n, stablecoin, 5_000_000n, buyer.address, DAY, DAY),
    );
    r.s4cancel = await mined(escrow.connect(coopAdmin).cancel(4));
    r.s5create = await mined(
      escrow.connect(coopAdmin).createSale(ids.B2, 20_000n, ZeroAddress, parseEther("0.1"), buyer.address, DAY, DAY),
    );
    r.s5fund = await mined(escrow.connect(buyer).fund(5, { value: parseEther("0.1") }));
    r.s5cancel = await mined(escrow.connect(coopAdmin).cancel(5));

    // Money out: claims (own and on behalf), withdrawals, reserve.
    r.claimAlice = await mined(
      escrow.connect(alice).claim(ids.B1, ZeroAddress, trees.B1.wordOf(alice.address), trees.B1.proof(alice.address)),
    );
    r.claimBobM = await mined(
      escrow.connect(coopAdmin).claimFor(ids.M, stablecoin, trees.M.wordOf(bob.address), trees.M.proof(bob.address)),
    );
    r.claimBobC1 = await mined(
      escrow.connect(bob).claim(ids.C1, ZeroAddress, trees.B1.wordOf(bob.address), trees.B1.proof(bob.address)),
    );
    r.withdrawBuyer = await mined(escrow.connect(buyer).withdraw(ZeroAddress, buyer.address));
    r.withdrawFee = await mined(escrow.connect(admin).withdraw(stablecoin, feeRecipient.address));
    r.reserveOut = await mined(
      escrow.connect(coopAdmin).withdrawReserve(1, ZeroAddress, coopAdmin.address, parseEther("0.1")),
    );

    indexer = createIndexer({ db, client: tc.client, deployment, confirmations: 0, log, maxBlockRange: 7 });
  });

  after(async function () {
    await indexer?.stop();
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await tc?.stop().catch(() => undefined);
  });

  describe("syncOnce", function () {
    it("indexes every log of the three contracts up to the head, in ranges", async function () {
      const target = await head();
      const result = await indexer.syncOnce();
      expect(result).to.deep.equal({
        from: deployment.contracts.CooperativeRegistry.blockNumber,
        to: target,
        events: await chainLogCount(),
      });
      expect(queries.counts().logs).to.equal(result.events);
      const status = await indexer.status();
      expect(status).to.deep.equal({ lastBlock: target, head: target, lag: 0, problem: null });
    });

    it("does nothing more when called again", async function () {
      const last = await head();
      expect(await indexer.syncOnce()).to.deep.equal({ from: last + 1, to: last, events: 0 });
    });
  });

  describe("cooperatives and members", function () {
    it("lists cooperatives with their current admin, reserve rate and active members", async function () {
      const page = queries.listCooperatives({ limit: 10, offset: 0 });
      expect(page).to.deep.equal({
        total: 2,
        limit: 10,
        offset: 0,
        items: [
          {
            cooperativeId: 1,
            name: "Coopérative Tighmert Roses",
            region: "Tinghir",
            registrationNumber: "ODCO-TGH-2019-0042",
            admin: coopAdmin.address,
            reserveBps: 1500,
            womenLed: true,
            memberCount: 3,
            chain: await facts("coop1", "CooperativeRegistered"),
          },
          {
            cooperativeId: 2,
            name: "Coopérative Aït Atta Dates",
            region: "Errachidia",
            registrationNumber: "ODCO-ERR-2020-0007",
            admin: registrar.address,
            reserveBps: 500,
            womenLed: false,
            memberCount: 1,
            chain: await facts("coop2", "CooperativeRegistered"),
          },
        ],
      });
      expect(Number((await tc.deployed.registry.getCooperative(1)).memberCount)).to.equal(3);
    });

    it("keeps the history of admin and reserve rate changes", async function () {
      const one = queries.getCooperative(1)!;
      expect(one.batchCount).to.equal(5);
      expect(one.changes).to.deep.equal([
        { kind: "reserve", previous: 1000, value: 1500, chain: await facts("reserve", "ReserveRateChanged") },
      ]);
      const two = queries.getCooperative(2)!;
      expect(two.batchCount).to.equal(1);
      expect(two.changes).to.deep.equal([
        {
          kind: "admin",
          previous: admin.address,
          value: registrar.address,
          chain: await facts("coop2Admin", "CooperativeAdminChanged"),
        },
      ]);
      expect(queries.getCooperative(3)).to.equal(null);
    });

    it("lists members with their reference hash and removal", async function () {
      expect(queries.listMembers(1)).to.deep.equal([
        {
          cooperativeId: 1,
          account: alice.address,
          referenceHash: keccakId("ref:alice"),
          active: true,
          chain: await facts("addAlice", "MemberAdded"),
          removed: null,
        },
        {
          cooperativeId: 1,
          account: bob.address,
          referenceHash: keccakId("ref:bob"),
          active: true,
          chain: await facts("addBob", "MemberAdded"),
          removed: null,
        },
        {
          cooperativeId: 1,
          account: carol.address,
          referenceHash: keccakId("ref:carol"),
          active: true,
          chain: await facts("addCarol", "MemberAdded"),
          removed: null,
        },
        {
          cooperativeId: 1,
          account: dave,
          referenceHash: keccakId("ref:dave"),
          active: false,
          chain: await facts("addDave", "MemberAdded"),
          removed: await facts("removeDave", "MemberRemoved"),
        },
      ]);
      expect(queries.listMembers(2).map((m) => m.account)).to.deep.equal([carol.address]);
    });
  });

  describe("batches", function () {
    it("finds a batch by GS1 Digital Link (GTIN + lot) through an index, not a scan", function () {
      const plan = db
        .prepare(
          "EXPLAIN QUERY PLAN SELECT batch_id FROM ix_batches WHERE gtin = ? AND lot_code = ? ORDER BY block_number, log_index LIMIT 1",
        )
        .all("0", "ROSE-2026-001") as { detail: string }[];
      expect(plan.map((p) => p.detail).join("; ")).to.match(/USING (COVERING )?INDEX ix_batches_digital_link/);
    });

    it("holds a registered batch with its contributors, timeline, certifications, lineage and sales", async function () {
      const b = queries.getBatch(ids.B1)!;
      const onChain = await tc.deployed.batches.getBatch(ids.B1);
      expect(b.contributorsRoot).to.equal(onChain.contributorsRoot);
      expect(b.drawn).to.equal(onChain.drawn.toString());
      const { events, certifications, parents, children, quantityChanges, sales, cooperative, contributors, ...info } =
        b;
      expect(info).to.deep.equal({
        batchId: ids.B1,
        cooperativeId: 1,
        kind: "registered",
        registeredBy: coopAdmin.address,
        productCode: "rose-petals",
        gtin: "0",
        lotCode: "ROSE-2026-001",
        quantity: "1000000",
        unit: "g",
        origin: "Kelaat M'Gouna",
        productionDate,
        metadataHash: keccakId("metadata:ROSE-2026-001"),
        contributorsRoot: trees.B1.root,
        totalWeight: "1000000",
        contributorsFrom: null,
        drawn: "700000", // 300,000 split + 300,000 merged + 100,000 sold
        available: "300000",
        chain: await facts("B1", "BatchRegistered"),
      });
      expect(cooperative?.name).to.equal("Coopérative Tighmert Roses");
      expect(contributors).to.deep.equal(
        trees.B1.contributors.map((c) => ({ account: c.account, weight: c.weight.toString() })),
      );
      expect(events).to.deep.equal([
        {
          bizStep: BIZ("commissioning"),
          location: "",
          eventTime: now - 5000,
          documentHash: keccakId("doc:commission"),
          recordedBy: coopAdmin.address,
          chain: await facts("commission", "BatchEvent"),
        },
        {
          bizStep: BIZ("harvesting"),
          location: "Tighmert",
          eventTime: now - 3000,
          documentHash: keccakId("doc:harvest"),
          recordedBy: alice.address,
          chain: await facts("harvest", "BatchEvent"),
        },
        {
          bizStep: BIZ("drying"),
          location: "Kelaat M'Gouna",
          eventTime: now - 2000,
          documentHash: keccakId("doc:drying"),
          recordedBy: coopAdmin.address,
          chain: await facts("drying", "BatchEvent"),
        },
      ]);
      expect(certifications).to.deep.equal([
        {
          certificationId: 1,
          certifier: certifier.address,
          scheme: "ONSSA organic",
          certificateHash: keccakId("cert:1"),
          validUntil: String(now + 365 * DAY),
          revoked: true,
          revocation: {
            certifier: certifier.address,
            reasonHash: keccakId("reason:sampling"),
            chain: await facts("revoke", "CertificationRevoked"),
          },
          chain: await facts("cert1", "BatchCertified"),
        },
        {
          certificationId: 2,
          certifier: certifier.address,
          scheme: "IGP Rose de Kelaat M'Gouna",
          certificateHash: keccakId("cert:2"),
          validUntil: String(now + 2 * 365 * DAY),
          revoked: false,
          revocation: null,
          chain: await facts("cert2", "BatchCertified"),
        },
      ]);
      const split = await facts("split", "BatchSplit");
      expect(parents).to.deep.equal([]);
      expect(children).to.deep.equal([
        { batchId: ids.C1, kind: "split", quantity: "200000", actor: coopAdmin.address, chain: split },
        { batchId: ids.C2, kind: "split", quantity: "100000", actor: coopAdmin.address, chain: split },
        {
          batchId: ids.M,
          kind: "merge",
          quantity: "300000",
          actor: coopAdmin.address,
          chain: await facts("merge", "BatchesMerged"),
        },
      ]);
      expect(quantityChanges).to.deep.equal([
        { kind: "drawn", quantity: "100000", drawnTotal: "700000", chain: await facts("s1create", "QuantityDrawn") },
      ]);
      expect(sales.map((s) => [s.saleId, s.state, s.releases.map((x) => x.gross)])).to.deep.equal([
        [1, "Released", [parseEther("1").toString()]],
      ]);
    });

    it("gives a split lot the parent's product, dates and contributors", async function () {
      const c = queries.getBatch(ids.C1.toUpperCase().replace("0X", "0x"))!;
      expect(c).to.include({
        batchId: ids.C1,
        kind: "split",
        productCode: "rose-petals",
        gtin: "0",
        lotCode: "ROSE-2026-001-A",
        quantity: "200000",
        unit: "g",
        origin: "Kelaat M'Gouna",
        productionDate,
        metadataHash: keccakId("metadata:A"),
        contributorsRoot: trees.B1.root,
        totalWeight: "1000000",
        contributorsFrom: ids.B1,
        registeredBy: coopAdmin.address,
        drawn: "50000",
        available: "150000",
      });
      expect(c.chain).to.deep.equal(await facts("split", "BatchRegistered", 0));
      expect(queries.getBatch(ids.C2)!.chain).to.deep.equal(await facts("split", "BatchRegistered", 1));
      expect(c.contributors).to.deep.equal(queries.getBatch(ids.B1)!.contributors);
      expect(c.parents).to.deep.equal([
        {
          batchId: ids.B1,
          kind: "split",
          quantity: "200000",
          actor: coopAdmin.address,
          chain: await facts("split", "BatchSplit"),
        },
      ]);
      expect(c.sales.map((s) => s.saleId)).to.deep.equal([3]);
    });

    it("records a merge with its parents and quantity-weighted contributors", async function () {
      const m = queries.getBatch(ids.M)!;
      const merged = await facts("merge", "BatchesMerged");
      expect(m).to.include({
        kind: "merge",
        productCode: "rose-water",
        gtin: "6111234567892",
        unit: "l",
        quantity: "700",
        totalWeight: "500000",
      });
      expect(m.contributors).to.deep.equal(
        [...trees.M.contributors].map((x) => ({ account: x.account, weight: x.weight.toString() })),
      );
      expect(m.parents).to.deep.equal([
        { batchId: ids.B1, kind: "merge", quantity: "300000", actor: coopAdmin.address, chain: merged },
        { batchId: ids.B2, kind: "merge", quantity: "200000", actor: coopAdmin.address, chain: merged },
      ]);
      const b2 = queries.getBatch(ids.B2)!;
      expect(b2.registeredBy).to.equal(alice.address);
      expect(b2.drawn).to.equal((await tc.deployed.batches.getBatch(ids.B2)).drawn.toString());
      expect(b2.quantityChanges.map((q) => [q.kind, q.quantity, q.drawnTotal])).to.deep.equal([
        ["drawn", "10000", "210000"],
        ["restored", "10000", "200000"],
        ["drawn", "20000", "220000"],
        ["restored", "20000", "200000"],
      ]);
    });

    it("pages batches in chain order, filtered by cooperative and product, with a capped page size", function () {
      const all = [ids.B1, ids.B2, ids.B3, ids.C1, ids.C2, ids.M];
      const first = queries.listBatches({ limit: 2, offset: 0 });
      expect(first.total).to.equal(6);
      expect(first.items.map((b) => b.batchId)).to.deep.equal(all.slice(0, 2));
      expect(queries.listBatches({ limit: 2, offset: 2 }).items.map((b) => b.batchId)).to.deep.equal(all.slice(2, 4));
      expect(queries.listBatches({ limit: 2, offset: 6 }).items).to.deep.equal([]);
      expect(queries.listBatches({ cooperativeId: 2 }).items.map((b) => b.batchId)).to.deep.equal([ids.B3]);
      const petals = queries.listBatches({ cooperativeId: 1, productCode: "rose-petals", limit: 3 });
      expect(petals.total).to.equal(4);
      expect(petals.items.map((b) => b.batchId)).to.deep.equal([ids.B1, ids.B2, ids.C1]);
      expect(queries.listBatches({ limit: 10_000 }).limit).to.equal(MAX_PAGE_SIZE);
      expect(queries.listBatches({ limit: 0, offset: -5 })).to.include({ limit: 1, offset: 0 });
      expect(queries.getBatch("0x" + "00".repeat(32))).to.equal(null);
    });
  });

  describe("sales", function () {
    async function expectOnChainState(saleId: number) {
      expect(queries.getSale(saleId)!.state).to.equal(STATES[Number((await tc.deployed.escrow.getSale(saleId)).state)]);
    }

    it("follows an ETH sale confirmed by the buyer, with the transactions of each step", async function () {
      const s = queries.getSale(1)!;
      const split = splitRevenue(parseEther("1"), FEE_BPS, 1500n);
      const fundBlock = await tc.provider.getBlock(r.s1fund.blockNumber);
      const shipBlock = await tc.provider.getBlock(r.s1ship.blockNumber);
      const { steps, releases, refunds, dispute, chain, ...sale } = s;
      expect(sale).to.deep.equal({
        saleId: 1,
        batchId: ids.B1,
        cooperativeId: 1,
        seller: coopAdmin.address,
        buyer: buyer.address,
        token: ZeroAddress,
        price: parseEther("1").toString(),
        quantity: "100000",
        feeBps: 200,
        reserveBps: 1500,
        shippingPeriod: DAY,
        disputeWindow: DAY,
        state: "Released",
        fundedAmount: parseEther("1").toString(),
        fundedAt: fundBlock!.timestamp,
        shipBy: fundBlock!.timestamp + DAY,
        shippedAt: shipBlock!.timestamp,
        shipmentDocumentHash: keccakId("ship:1"),
        disputeUntil: shipBlock!.timestamp + DAY,
      });
      expect(chain).to.deep.equal(await facts("s1create", "SaleCreated"));
      expect(steps).to.deep.equal([
        { step: "created", actor: coopAdmin.address, chain: await facts("s1create", "SaleCreated") },
        { step: "funded", actor: buyer.address, chain: await facts("s1fund", "SaleFunded") },
        { step: "shipped", actor: coopAdmin.address, chain: await facts("s1ship", "SaleShipped") },
        { step: "confirmed", actor: buyer.address, chain: await facts("s1confirm", "DeliveryConfirmed") },
        { step: "released", actor: null, chain: await facts("s1confirm", "SaleReleased") },
      ]);
      expect(releases).to.deep.equal([
        {
          gross: parseEther("1").toString(),
          fee: split.fee.toString(),
          reserve: split.reserve.toString(),
          net: split.net.toString(),
          releasedTotal: split.net.toString(),
          chain: await facts("s1confirm", "SaleReleased"),
        },
      ]);
      expect(refunds).to.deep.equal([]);
      expect(dispute).to.equal(null);
      await expectOnChainState(1);
    });

    it("follows a stablecoin open offer released after the dispute window", async function () {
      const s = queries.getSale(2)!;
      const split = splitRevenue(250_000_000n, FEE_BPS, 1500n);
      expect(s).to.include({
        state: "Released",
        token: stablecoin,
        buyer: buyer.address,
        price: "250000000",
        batchId: ids.M,
      });
      expect(s.steps.map((x) => [x.step, x.chain.txHash])).to.deep.equal([
        ["created", r.s2create.hash],
        ["funded", r.s2fund.hash],
        ["shipped", r.s2ship.hash],
        ["released", r.s2release.hash],
      ]);
      expect(s.releases.map((x) => [x.gross, x.fee, x.reserve, x.net])).to.deep.equal([
        ["250000000", split.fee.toString(), split.reserve.toString(), split.net.toString()],
      ]);
      expect(queries.getBatch(ids.M)!.sales.map((x) => x.saleId)).to.deep.equal([2]);
      await expectOnChainState(2);
    });

    it("follows a dispute and its resolution: refund to the buyer, the rest released", async function () {
      const s = queries.getSale(3)!;
      const released = splitRevenue(parseEther("0.225"), FEE_BPS, 1500n);
      expect(s.state).to.equal("Resolved");
      expect(s.dispute).to.deep.equal({
        buyer: buyer.address,
        reasonHash: keccakId("reason:leak"),
        chain: await facts("s3dispute", "DisputeOpened"),
        resolution: {
          arbiter: arbiter.address,
          refundBps: 2500,
          rulingHash: keccakId("ruling:3"),
          chain: await facts("s3resolve", "DisputeResolved"),
        },
      });
      expect(s.refunds).to.deep.equal([
        {
          buyer: buyer.address,
          amount: parseEther("0.075").toString(),
          chain: await facts("s3resolve", "SaleRefunded"),
        },
      ]);
      expect(s.releases.map((x) => [x.gross, x.fee, x.reserve, x.net, x.releasedTotal])).to.deep.equal([
        [
          parseEther("0.225").toString(),
          released.fee.toString(),
          released.reserve.toString(),
          released.net.toString(),
          released.net.toString(),
        ],
      ]);
      expect(s.steps.map((x) => x.step)).to.deep.equal([
        "created",
        "funded",
        "shipped",
        "disputed",
        "resolved",
        "refunded",
        "released",
      ]);
      await expectOnChainState(3);
    });

    it("tells a withdrawn offer from a refunded sale", async function () {
      expect(queries.getSale(4)!.steps.map((x) => [x.step, x.actor])).to.deep.equal([
        ["created", coopAdmin.address],
        ["cancelled", coopAdmin.address],
      ]);
      expect(queries.getSale(5)!.steps.map((x) => [x.step, x.actor])).to.deep.equal([
        ["created", coopAdmin.address],
        ["funded", buyer.address],
        ["cancelled", coopAdmin.address],
        ["refunded", buyer.address],
      ]);
      for (const id of [4, 5]) await expectOnChainState(id);
      expect(queries.getSale(4)!.state).to.equal("Cancelled");
      expect(queries.getSale(5)!.state).to.equal("Refunded");
      expect(queries.getSale(99)).to.equal(null);
    });

    it("lists sales by state, batch and cooperative, paged", function () {
      const idsOf = (p: { items: { saleId: number }[] }) => p.items.map((s) => s.saleId);
      expect(idsOf(queries.listSales({ state: "Released" }))).to.deep.equal([1, 2]);
      expect(idsOf(queries.listSales({ batchId: ids.B2 }))).to.deep.equal([4, 5]);
      expect(idsOf(queries.listSales({ cooperativeId: 1, limit: 2, offset: 3 }))).to.deep.equal([4, 5]);
      expect(queries.listSales({ cooperativeId: 1, limit: 2 }).total).to.equal(5);
      expect(queries.listSales({ cooperativeId: 2 })).to.deep.equal({ items: [], total: 0, limit: 20, offset: 0 });
    });
  });

  describe("money out", function () {
    it("computes each contributor's balance as the escrow does", async function () {
      const { escrow } = tc.deployed;
      for (const member of [alice, bob, carol]) {
        const balances = queries.balancesOf(member.address.toLowerCase());
        for (const b of balances) {
          expect(b.releasedTotal).to.equal((await escrow.released(b.batchId, b.token)).toString());
          expect(b.claimed).to.equal((await escrow.claimed(b.batchId, b.token, member.address)).toString());
          expect(b.claimable).to.equal(
            (await escrow.claimable(b.batchId, b.token, member.address, BigInt(b.weight))).toString(),
          );
        }
        // Every batch it contributed to that had a release: B1 (ETH), C1 (ETH, parent's list), M (stablecoin).
        expect(balances.map((b) => [b.batchId, b.token])).to.deep.equal([
          [ids.B1, ZeroAddress],
          [ids.C1, ZeroAddress],
          [ids.M, stablecoin],
        ]);
      }
      const aliceB1 = queries.balancesOf(alice.address)[0];
      const net = splitRevenue(parseEther("1"), FEE_BPS, 1500n).net;
      expect(aliceB1).to.deep.equal({
        batchId: ids.B1,
        cooperativeId: 1,
        productCode: "rose-petals",
        lotCode: "ROSE-2026-001",
        token: ZeroAddress,
        weight: "500000",
        totalWeight: "1000000",
        releasedTotal: net.toString(),
        claimed: shareOf(net, 500_000n, 1_000_000n).toString(),
        claimable: "0",
      });
      expect(queries.balancesOf(buyer.address)).to.deep.equal([]);
    });

    it("keeps claims, withdrawals and reserve withdrawals with their chain facts", async function () {
      const claims = db.prepare("SELECT * FROM ix_claims ORDER BY block_number, log_index").all() as Record<
        string,
        unknown
      >[];
      const claimed = async (label: string) => {
        const l = r[label].logs.find((x) => x.topics[0] === topicOf("Claimed"))!;
        const parsed = SaleEscrow__factory.createInterface().parseLog(l)!;
        return {
          amount: parsed.args.amount.toString(),
          account: parsed.args.account,
          f: await facts(label, "Claimed"),
        };
      };
      const expected = await Promise.all(["claimAlice", "claimBobM", "claimBobC1"].map(claimed));
      expect(claims.map((c) => [c.account, c.amount, c.tx_hash, c.log_index, c.block_time])).to.deep.equal(
        expected.map((e) => [e.account, e.amount, e.f.txHash, e.f.logIndex, e.f.blockTime]),
      );
      expect(claims.map((c) => [c.batch_id, c.token, c.weight])).to.deep.equal([
        [ids.B1, ZeroAddress, "500000"],
        [ids.M, stablecoin, trees.M.weightOf(bob.address).toString()],
        [ids.C1, ZeroAddress, "300000"],
      ]);
      const withdrawals = db
        .prepare("SELECT token, account, amount, tx_hash FROM ix_withdrawals ORDER BY block_number")
        .all();
      expect(withdrawals).to.deep.equal([
        {
          token: ZeroAddress,
          account: buyer.address,
          amount: parseEther("0.175").toString(),
          tx_hash: r.withdrawBuyer.hash,
        },
        {
          token: stablecoin,
          account: feeRecipient.address,
          amount: splitRevenue(250_000_000n, FEE_BPS, 1500n).fee.toString(),
          tx_hash: r.withdrawFee.hash,
        },
      ]);
      expect(
        db.prepare("SELECT cooperative_id, token, recipient, amount, tx_hash FROM ix_reserve_withdrawals").all(),
      ).to.deep.equal([
        {
          cooperative_id: 1,
          token: ZeroAddress,
          recipient: coopAdmin.address,
          amount: parseEther("0.1").toString(),
          tx_hash: r.reserveOut.hash,
        },
      ]);
    });
  });

  describe("restarts and rebuilds", function () {
    it("processes an already indexed range again without changing anything", async function () {
      const before = dump(db);
      const last = await head();
      db.prepare("UPDATE ix_state SET last_block = ?, last_hash = ?").run(
        deployment.contracts.CooperativeRegistry.blockNumber + 3,
        (await tc.provider.getBlock(deployment.contracts.CooperativeRegistry.blockNumber + 3))!.hash,
      );
      const again = await indexer.syncOnce();
      expect(again).to.include({ to: last, events: 0 });
      expect(dump(db)).to.deep.equal(before);
    });

    it("resumes from the stored block in a new indexer, without duplicates", async function () {
      const last = (await indexer.status()).lastBlock;
      const resumed = createIndexer({ db, client: tc.client, deployment, confirmations: 0, log });
      r.packing = await mined(
        tc.deployed.batches
          .connect(coopAdmin)
          .recordEvent(ids.M, BIZ("packing"), "Kelaat M'Gouna", now, keccakId("doc:packing")),
      );
      r.claimCarol = await mined(
        tc.deployed.escrow
          .connect(carol)
          .claim(ids.B1, ZeroAddress, trees.B1.wordOf(carol.address), trees.B1.proof(carol.address)),
      );
      expect(await resumed.syncOnce()).to.deep.equal({ from: last + 1, to: await head(), events: 2 });
      expect(queries.counts().logs).to.equal(await chainLogCount());
      expect(queries.getBatch(ids.M)!.events.map((e) => [e.bizStep, e.chain.txHash])).to.deep.equal([
        [BIZ("packing"), r.packing.hash],
      ]);
      const carolB1 = queries.balancesOf(carol.address).find((b) => b.batchId === ids.B1)!;
      expect(carolB1.claimable).to.equal("0");
      expect(carolB1.claimed).to.equal(
        (await tc.deployed.escrow.claimed(ids.B1, ZeroAddress, carol.address)).toString(),
      );
    });

    it("rebuilds exactly the same content with reindex", async function () {
      await indexer.syncOnce();
      const before = dump(db);
      await indexer.reindex();
      expect(dump(db)).to.deep.equal(before);
      expect((await indexer.status()).lag).to.equal(0);
    });
  });

  describe("confirmations", function () {
    it("leaves the last blocks alone until they are deep enough", async function () {
      const cautious = createIndexer({ db, client: tc.client, deployment, confirmations: 2, log });
      const record = (step: string) =>
        mined(tc.deployed.batches.connect(coopAdmin).recordEvent(ids.C2, BIZ(step), "Casablanca", now, keccakId(step)));
      const first = await record("shipping");
      const second = await record("receiving");
      expect(await cautious.syncOnce()).to.deep.equal({
        from: first.blockNumber,
        to: first.blockNumber - 1,
        events: 0,
      });
      expect(queries.getBatch(ids.C2)!.events).to.deep.equal([]);
      expect(await cautious.waitForBlock(first.blockNumber, 150)).to.equal(false);
      expect(await cautious.status()).to.deep.equal({
        lastBlock: first.blockNumber - 1,
        head: second.blockNumber,
        lag: 0,
        problem: null,
      });

      await tc.provider.send("evm_mine", []);
      expect(await cautious.syncOnce()).to.deep.equal({ from: first.blockNumber, to: first.blockNumber, events: 1 });
      expect(queries.getBatch(ids.C2)!.events.map((e) => e.chain.txHash)).to.deep.equal([first.hash]);
      await tc.provider.send("evm_mine", []);
      expect(await cautious.waitForBlock(second.blockNumber, 5_000)).to.equal(true);
      expect(queries.getBatch(ids.C2)!.events.map((e) => e.chain.txHash)).to.deep.equal([first.hash, second.hash]);
    });
  });

  describe("polling", function () {
    it("waits for a mined write, and follows the chain while started", async function () {
      const receipt = await mined(
        tc.deployed.batches
          .connect(coopAdmin)
          .recordEvent(ids.C2, BIZ("accepting"), "Paris", now, keccakId("doc:accept")),
      );
      expect(await indexer.waitForBlock(receipt.blockNumber, 5_000)).to.equal(true);
      expect(queries.getBatch(ids.C2)!.events.map((e) => e.bizStep)).to.include(BIZ("accepting"));

      const polling = createIndexer({ db, client: tc.client, deployment, confirmations: 0, log, pollMs: 20 });
      polling.start();
      const next = await mined(
        tc.deployed.batches
          .connect(coopAdmin)
          .recordEvent(ids.C2, BIZ("retail_selling"), "Paris", now, keccakId("doc:sell")),
      );
      const deadline = Date.now() + 5_000;
      while ((await polling.status()).lastBlock < next.blockNumber && Date.now() < deadline)
        await new Promise((ok) => setTimeout(ok, 20));
      await polling.stop();
      expect(queries.getBatch(ids.C2)!.events.map((e) => e.bizStep)).to.include(BIZ("retail_selling"));
      expect(queries.counts().logs).to.equal(await chainLogCount());
    });
  });

  describe("reorganisations", function () {
    it("rewinds blocks that left the chain and indexes the new ones", async function () {
      await indexer.syncOnce();
      const snapshot = await tc.provider.send("evm_snapshot", []);
      const gone = await mined(
        tc.deployed.batches.connect(registrar).recordEvent(ids.B3, BIZ("packing"), "Erfoud", now, keccakId("doc:gone")),
      );
      await indexer.syncOnce();
      expect(queries.getBatch(ids.B3)!.events.map((e) => e.chain.txHash)).to.deep.equal([gone.hash]);

      await tc.provider.send("evm_revert", [snapshot]);
      const kept = await mined(
        tc.deployed.batches
          .connect(registrar)
          .recordEvent(ids.B3, BIZ("storing"), "Rissani", now, keccakId("doc:kept")),
      );
      await tc.provider.send("evm_mine", []);
      expect(kept.blockNumber).to.equal(gone.blockNumber);
      await indexer.syncOnce();
      expect(queries.getBatch(ids.B3)!.events.map((e) => [e.bizStep, e.chain.txHash])).to.deep.equal([
        [BIZ("storing"), kept.hash],
      ]);
      expect(queries.counts().logs).to.equal(await chainLogCount());

      const incremental = dump(db);
      await indexer.reindex();
      expect(dump(db)).to.deep.equal(incremental);
    });
  });

  describe("a chain replaced by a fresh one", function () {
    it("reports the problem and leaves the index as it was", async function () {
      await indexer.syncOnce();
      const before = dump(db);
      await tc.stop();
      const freshDir = mkdtempSync(path.join(tmpdir(), "cooptrace-fresh-"));
      const fresh = await startEmbeddedChain({ dataDir: freshDir });
      const provider = createChainClient(fresh.rpcUrl, fresh.chainId, 20);
      try {
        const lost = createIndexer({ db, client: provider, deployment, confirmations: 0, log });
        const status = await lost.status();
        expect(status.problem).to.match(/no contract code at the deployment addresses/);
        expect(status.lastBlock).to.equal(JSON.parse(before.ix_state[0]).last_block);
        const result = await lost.syncOnce();
        expect(result.events).to.equal(0);
        const refused = await lost.reindex().then(
          () => null,
          (err: Error) => err.message,
        );
        expect(refused).to.match(/^cannot reindex: no contract code/);
        expect(await lost.waitForBlock(status.lastBlock + 1, 100)).to.equal(false);
        expect(dump(db)).to.deep.equal(before);
      } finally {
        provider.destroy();
        await fresh.stop();
        rmSync(freshDir, { recursive: true, force: true });
      }
    });
  });
});
