/**
 * EPCIS 2.0 export against a real chain and index: every kind of batch history is driven with ethers
 * on anvil, indexed into SQLite, read back with `getBatch`, exported, and validated against GS1's
 * official EPCIS 2.0 JSON Schema (../shared/standards), whose own examples prove the validator setup.
 */
import { textToWord } from "../../domain/words";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  ZeroAddress,
  id as keccakId,
  parseEther,
  type ContractTransactionResponse,
  type HDNodeWallet,
  type TransactionReceipt,
} from "ethers";
import { anvilWallet as w, startTestChain, type TestChain } from "../helpers/chain";
import { createLogger } from "../../server/log";
import { openDatabase, type Db } from "../../server/store/db";
import {
  createIndexer,
  createQueries,
  indexMigrations,
  type BatchDetail,
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
import { BIZSTEP_VOCABULARY_PATH, buildEpcisDocument, validateEpcis, type EpcisOptions } from "../../server/epcis";

const DAY = 86_400;
const PUBLIC = "https://trace.example.ma";
const STANDARDS = path.resolve(__dirname, "../../../shared/standards");
const EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
const log = createLogger("silent");

type Json = Record<string, any>;

async function mined(pending: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await pending).wait();
  if (receipt === null || receipt.status !== 1) throw new Error("transaction failed");
  return receipt;
}

function expectValid(doc: unknown): void {
  const result = validateEpcis(doc);
  expect(result.errors, `EPCIS schema errors:\n${result.errors.join("\n")}`).to.deep.equal([]);
  expect(result.valid).to.equal(true);
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

describe("EPCIS 2.0 export", function () {
  this.timeout(300_000);
  let tc: TestChain;
  let dir: string;
  let db: Db;
  let queries: Queries;
  let indexer: Indexer;
  let registrar: HDNodeWallet, certifier: HDNodeWallet, coopAdmin: HDNodeWallet;
  let alice: HDNodeWallet, bob: HDNodeWallet, buyer: HDNodeWallet, anyone: HDNodeWallet;
  let chainId: number;
  let now: number;
  let productionDate: number;
  const ids: Record<string, string> = {};
  const trees: Record<string, ContributorTree> = {};
  const r: Record<string, TransactionReceipt> = {};

  const options = (): EpcisOptions => ({
    publicUrl: `${PUBLIC}/`, // a trailing slash must not double in identifiers
    chainId,
    lookupBatch: (batchId) => queries.getBatch(batchId),
  });
  const batch = (label: string): BatchDetail => {
    const b = queries.getBatch(ids[label]);
    if (b === null) throw new Error(`${label} not indexed`);
    return b;
  };
  const exportOf = (label: string): Json => buildEpcisDocument(batch(label), options()) as Json;
  const eventsOf = (doc: Json): Json[] => doc.epcisBody.eventList as Json[];
  const ours = (id: string) => `${PUBLIC}/b/${id}`;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "cooptrace-epcis-"));
    tc = await startTestChain({
      deploy: {
        registrars: [w(1).address],
        certifiers: [w(2).address],
        arbiters: [w(3).address],
        feeRecipient: w(9).address,
      },
    });
    [, registrar, certifier, , coopAdmin, alice, bob, buyer, anyone] = tc.wallets;
    chainId = tc.chain.chainId;
    db = openDatabase(path.join(dir, "cooptrace.sqlite"), [indexMigrations]);
    queries = createQueries(db);
    const { registry, batches, escrow } = tc.deployed;
    now = (await tc.provider.getBlock("latest"))!.timestamp;
    productionDate = now - DAY;

    await mined(
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
    await mined(registry.connect(coopAdmin).addMember(1, alice.address, keccakId("ref:alice")));
    await mined(registry.connect(coopAdmin).addMember(1, bob.address, keccakId("ref:bob")));
    idx = await indexOfAccounts(registry, [alice.address, bob.address]);
    trees.one = treeWith([
      { account: alice.address, weight: 600n },
      { account: bob.address, weight: 400n },
    ]);
    trees.alice = treeWith([{ account: alice.address, weight: 1n }]);

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
    const register = async (label: string, lot: string, i: ReturnType<typeof info>, tree = trees.one) => {
      r[label] = await mined(batches.connect(coopAdmin).registerBatch(1, i, tree.words));
      ids[label] = (await batches.batchIdOf(1, textToWord(lot))).toLowerCase();
    };

    // Plain registrations: no GTIN; a valid GTIN with a lot needing %-encoding and a GLN origin;
    // pieces with an invalid GTIN (wrong check digit).
    await register(
      "plain",
      "DATES-2026-001",
      info("DATES-2026-001", 5_000n, { productCode: "dates-mejhoul", unit: "kg", origin: "Erfoud" }),
    );
    await register(
      "gtin",
      "DATES/26(A)",
      info("DATES/26(A)", 800n, {
        productCode: "dates-mejhoul",
        unit: "kg",
        gtin: 6111234000019n,
        origin: "urn:epc:id:sgln:6111234.00001.0",
      }),
    );
    await register(
      "pottery",
      "POT-2026-01",
      info("POT-2026-01", 12n, { productCode: "pottery", unit: "piece", gtin: 6111234567892n, origin: "Tamegroute" }),
    );

    // The rose harvest: recorded steps of CBV and of our vocabulary in every spelling the chain accepts.
    await register("rose", "ROSE-2026-001", info("ROSE-2026-001", 1_000_000n));
    r.rose2 = await mined(batches.connect(alice).registerBatch(1, info("ROSE-2026-002", 400_000n), trees.alice.words));
    ids.rose2 = (await batches.batchIdOf(1, textToWord("ROSE-2026-002"))).toLowerCase();
    const step = (bizStep: string, location: string, ago: number) =>
      mined(batches.connect(alice).recordEvent(ids.rose, bizStep, location, now - ago, keccakId(`doc:${bizStep}`)));
    await step("urn:epcglobal:cbv:bizstep:harvesting", "Tighmert", 6000);
    await step("https://cooptrace.example/voc/bizstep/drying", "Kelaat M'Gouna", 5000);
    await step("packing", "urn:epc:id:sgln:6111234.00001.0", 4000);
    await step("distilling", "", 3000);
    await step("https://ref.gs1.org/cbv/BizStep-storing", "", 2000);
    await step("urn:epcglobal:cbv:bizstep:shipping", "urn:epc:id:sgln:6111234.00001.0", 1000);

    // Certifications: one revoked, one standing.
    await mined(batches.connect(certifier).certify(ids.rose, "ONSSA organic", keccakId("cert:1"), now + 365 * DAY));
    await mined(
      batches
        .connect(certifier)
        .certify(ids.rose, "AOP Rose de Kelaat M'Gouna-Dades", keccakId("cert:2"), now + 730 * DAY),
    );
    await mined(batches.connect(certifier).revokeCertification(1, keccakId("reason:sampling")));

    // Lineage: split the harvest into two lots; distil part of both harvests into rose water.
    r.split = await mined(
      batches.connect(coopAdmin).splitBatch(ids.rose, [
        { lotCode: textToWord("ROSE-2026-001-A"), quantity: 200_000n, metadataHash: keccakId("metadata:A") },
        { lotCode: textToWord("ROSE-2026-001-B"), quantity: 100_000n, metadataHash: keccakId("metadata:B") },
      ]),
    );
    ids.childA = (await batches.batchIdOf(1, textToWord("ROSE-2026-001-A"))).toLowerCase();
    ids.childB = (await batches.batchIdOf(1, textToWord("ROSE-2026-001-B"))).toLowerCase();
    trees.water = treeWith(
      mergeContributors([
        { contributors: trees.one.contributors, totalWeight: trees.one.totalWeight, drawn: 300_000n },
        { contributors: trees.alice.contributors, totalWeight: trees.alice.totalWeight, drawn: 200_000n },
      ]),
    );
    r.merge = await mined(
      batches.connect(coopAdmin).mergeBatches(
        1,
        [
          { batchId: ids.rose, quantity: 300_000n },
          { batchId: ids.rose2, quantity: 200_000n },
        ],
        info("RW-2026-01", 500n, { productCode: "rose-water", unit: "l", gtin: 6111234567895n }),
        trees.water.words,
      ),
    );
    ids.water = (await batches.batchIdOf(1, textToWord("RW-2026-01"))).toLowerCase();

    // Sales: rose water shipped and released after the dispute window; a split lot shipped and confirmed.
    await mined(
      escrow.connect(coopAdmin).createSale(ids.water, 100n, ZeroAddress, parseEther("1"), buyer.address, DAY, DAY),
    );
    await mined(escrow.connect(buyer).fund(1, { value: parseEther("1") }));
    await mined(escrow.connect(coopAdmin).markShipped(1, keccakId("ship:1")));
    await mined(
      escrow
        .connect(coopAdmin)
        .createSale(ids.childA, 50_000n, ZeroAddress, parseEther("0.2"), buyer.address, DAY, DAY),
    );
    await mined(escrow.connect(buyer).fund(2, { value: parseEther("0.2") }));
    await mined(escrow.connect(coopAdmin).markShipped(2, keccakId("ship:2")));
    await mined(escrow.connect(buyer).confirmDelivery(2));
    await tc.provider.send("evm_increaseTime", [DAY + 1]);
    await tc.provider.send("evm_mine", []);
    await mined(escrow.connect(anyone).release(1));

    indexer = createIndexer({ db, client: tc.client, deployment: tc.deployed.deployment, confirmations: 0, log });
    await indexer.syncOnce();
  });

  after(async function () {
    await indexer?.stop();
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await tc?.stop().catch(() => undefined);
  });

  describe("the validator", function () {
    it("reads the schema from shared/ next to the repository", function () {
      expect(existsSync(path.join(STANDARDS, "epcis-2.0-json-schema.json"))).to.equal(true);
    });

    for (const file of [
      "epcis-example-object-event-digital-link.jsonld",
      "epcis-example-transformation-event-digital-link.jsonld",
    ]) {
      it(`accepts GS1's official example ${file}`, function () {
        expectValid(JSON.parse(readFileSync(path.join(STANDARDS, file), "utf8")));
      });
    }

    it("rejects a broken document and says why", function () {
      const example = JSON.parse(
        readFileSync(path.join(STANDARDS, "epcis-example-object-event-digital-link.jsonld"), "utf8"),
      ) as Json;
      const broken = structuredClone(example);
      delete broken.creationDate;
      const event = broken.epcisBody.eventList[0];
      event.bizStep = "urn:epcglobal:cbv:bizstep:shipping"; // CBV 1.x URN: not allowed in 2.0 JSON
      event.quantityList = [{ epcClass: "not a uri", quantity: "10" }];
      delete event.eventTimeZoneOffset;
      const result = validateEpcis(broken);
      expect(result.valid).to.equal(false);
      const text = result.errors.join("\n");
      expect(text).to.include("creationDate");
      expect(text).to.include("/epcisBody/eventList/0/bizStep");
      expect(text).to.include('/epcisBody/eventList/0/quantityList/0/epcClass must match format "uri"');
      expect(text).to.include("/epcisBody/eventList/0/quantityList/0/quantity must be number");
      expect(text).to.include("eventTimeZoneOffset");
      expect(validateEpcis("not even an object").valid).to.equal(false);
    });
  });

  describe("documents", function () {
    it("every batch's document is valid EPCIS 2.0", function () {
      for (const label of Object.keys(ids)) {
        const doc = exportOf(label);
        expectValid(doc);
        const eventIds = eventsOf(doc).map((e) => e.eventID as string);
        expect(new Set(eventIds).size, label).to.equal(eventIds.length);
      }
    });

    it("the schema really checks our events: a string quantity or an unprefixed extension is refused", function () {
      const doc = exportOf("water");
      const stringQuantity = structuredClone(doc);
      stringQuantity.epcisBody.eventList[0].outputQuantityList[0].quantity = "500";
      expect(validateEpcis(stringQuantity).errors.join("\n")).to.include(
        "outputQuantityList/0/quantity must be number",
      );
      const unprefixed = structuredClone(doc);
      unprefixed.epcisBody.eventList[1].txHash = "0x00";
      expect(validateEpcis(unprefixed).valid).to.equal(false);
    });

    it("is a JSON-LD EPCISDocument with our extension namespace and deterministic event ids", function () {
      const doc = exportOf("plain");
      expect(doc["@context"]).to.deep.equal([EPCIS_CONTEXT, { cooptrace: `${PUBLIC}/voc/cooptrace#` }]);
      expect(doc.type).to.equal("EPCISDocument");
      expect(doc.schemaVersion).to.equal("2.0");
      expect(doc.id).to.equal(`${PUBLIC}/api/v1/batches/${ids.plain}/epcis`);
      expect(Date.parse(doc.creationDate as string)).to.be.closeTo(Date.now(), 60_000);
      const again = exportOf("plain");
      expect(eventsOf(again)).to.deep.equal(eventsOf(doc));
      for (const e of eventsOf(doc)) {
        expect(e.eventID).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
      // Another gateway (other public URL) names the same chain facts with the same event ids.
      const elsewhere = buildEpcisDocument(batch("plain"), {
        ...options(),
        publicUrl: "https://other.example",
      }) as Json;
      expect(eventsOf(elsewhere).map((e) => e.eventID)).to.deep.equal(eventsOf(doc).map((e) => e.eventID));
    });
  });

  describe("histories", function () {
    it("plain registration without GTIN: one commissioning ObjectEvent ADD with our identifier and KGM", function () {
      const b = batch("plain");
      const doc = exportOf("plain");
      expectValid(doc);
      const events = eventsOf(doc);
      expect(events).to.have.length(1);
      expect(b.chain.txHash).to.equal(r.plain.hash);
      expect(events[0]).to.deep.include({
        type: "ObjectEvent",
        action: "ADD",
        bizStep: "commissioning",
        disposition: "active",
        eventTime: iso(productionDate),
        eventTimeZoneOffset: "+00:00",
        recordTime: iso(b.chain.blockTime),
        quantityList: [{ epcClass: ours(ids.plain), quantity: 5000, uom: "KGM" }],
        "cooptrace:location": "Erfoud",
        "cooptrace:chainId": chainId,
        "cooptrace:txHash": r.plain.hash,
        "cooptrace:blockNumber": r.plain.blockNumber,
        "cooptrace:logIndex": b.chain.logIndex,
      });
      expect(events[0]).to.not.have.property("readPoint");
      expect(events[0].ilmd).to.deep.include({
        "cooptrace:lotCode": "DATES-2026-001",
        "cooptrace:productCode": "dates-mejhoul",
        "cooptrace:origin": "Erfoud",
        "cooptrace:productionDate": iso(productionDate),
        "cooptrace:unit": "kg",
      });
    });

    it("registration with a GTIN: the Digital Link class id with the lot %-encoded, a GLN origin as place", function () {
      const doc = exportOf("gtin");
      expectValid(doc);
      const [commissioning] = eventsOf(doc);
      expect(commissioning.quantityList).to.deep.equal([
        { epcClass: "https://id.gs1.org/01/06111234000019/10/DATES%2F26%28A%29", quantity: 800, uom: "KGM" },
      ]);
      expect(commissioning.readPoint).to.deep.equal({ id: "urn:epc:id:sgln:6111234.00001.0" });
      expect(commissioning.bizLocation).to.deep.equal({ id: "urn:epc:id:sgln:6111234.00001.0" });
      expect(commissioning.ilmd["cooptrace:gtin"]).to.equal("06111234000019");
    });

    it("pieces are H87; a GTIN with a wrong check digit falls back to our identifier", function () {
      const doc = exportOf("pottery");
      expectValid(doc);
      expect(eventsOf(doc)[0].quantityList).to.deep.equal([{ epcClass: ours(ids.pottery), quantity: 12, uom: "H87" }]);
    });

    it("recorded steps: CBV terms bare, our steps in our vocabulary, given URIs kept, places when they are URIs", function () {
      const doc = exportOf("rose");
      expectValid(doc);
      const recorded = eventsOf(doc).filter((e) => e["cooptrace:bizStep"] !== undefined);
      expect(recorded.map((e) => [e.type, e.action, e.bizStep, e.disposition ?? null])).to.deep.equal([
        ["ObjectEvent", "OBSERVE", `${PUBLIC}${BIZSTEP_VOCABULARY_PATH}harvesting`, null],
        ["ObjectEvent", "OBSERVE", "https://cooptrace.example/voc/bizstep/drying", null],
        ["ObjectEvent", "OBSERVE", "packing", null],
        ["ObjectEvent", "OBSERVE", `${PUBLIC}/voc/bizstep/distilling`, null],
        ["ObjectEvent", "OBSERVE", "storing", null],
        ["ObjectEvent", "OBSERVE", "shipping", "in_transit"],
      ]);
      expect(recorded.map((e) => e.eventTime)).to.deep.equal(
        [6000, 5000, 4000, 3000, 2000, 1000].map((a) => iso(now - a)),
      );
      for (const e of recorded) expect(e.quantityList).to.deep.equal([{ epcClass: ours(ids.rose) }]);
      const [harvest, drying, packing, , , shipping] = recorded;
      expect(harvest["cooptrace:location"]).to.equal("Tighmert");
      expect(harvest["cooptrace:bizStep"]).to.equal("urn:epcglobal:cbv:bizstep:harvesting");
      expect(drying["cooptrace:location"]).to.equal("Kelaat M'Gouna");
      expect(packing.readPoint).to.deep.equal({ id: "urn:epc:id:sgln:6111234.00001.0" });
      expect(packing.bizLocation).to.deep.equal({ id: "urn:epc:id:sgln:6111234.00001.0" });
      expect(shipping.readPoint).to.deep.equal({ id: "urn:epc:id:sgln:6111234.00001.0" });
      expect(shipping).to.not.have.property("bizLocation"); // in transit: no business location
      const rows = batch("rose").events;
      expect(
        recorded.map((e) => [e["cooptrace:txHash"], e["cooptrace:documentHash"], e["cooptrace:recordedBy"]]),
      ).to.deep.equal(rows.map((row) => [row.chain.txHash, row.documentHash, alice.address]));
      // The registration comes first (production date), then the steps in time order.
      expect(eventsOf(doc)[0]).to.deep.include({ action: "ADD", bizStep: "commissioning" });
    });

    it("certified and revoked: inspecting events with certificationInfo; the revocation names what it withdraws", function () {
      const b = batch("rose");
      const doc = exportOf("rose");
      const inspecting = eventsOf(doc).filter((e) => e.bizStep === "inspecting");
      expect(
        inspecting.map((e) => [
          e["cooptrace:certificationId"],
          e.disposition ?? null,
          e["cooptrace:certificationStatus"] ?? null,
        ]),
      ).to.deep.equal([
        [1, "conformant", null],
        [2, "conformant", null],
        [1, null, "revoked"],
      ]);
      const [cert1, cert2, revocation] = inspecting;
      expect(cert1.certificationInfo).to.equal(`${PUBLIC}/b/${ids.rose}#certification-1`);
      expect(revocation.certificationInfo).to.equal(cert1.certificationInfo);
      expect(cert2).to.deep.include({
        "cooptrace:scheme": "AOP Rose de Kelaat M'Gouna-Dades",
        "cooptrace:certificateHash": keccakId("cert:2"),
        "cooptrace:certifier": certifier.address,
        "cooptrace:validUntil": iso(now + 730 * DAY),
        eventTime: iso(b.certifications[1].chain.blockTime),
        "cooptrace:txHash": b.certifications[1].chain.txHash,
      });
      expect(revocation).to.deep.include({
        "cooptrace:revokes": cert1.eventID,
        "cooptrace:reasonHash": keccakId("reason:sampling"),
        "cooptrace:txHash": b.certifications[0].revocation!.chain.txHash,
      });
      expect(revocation.eventID).to.not.equal(cert1.eventID);
    });

    it("split parent and children: one TransformationEvent, parent quantity in, each lot out, same in every document", function () {
      const parentDoc = exportOf("rose");
      const transformations = eventsOf(parentDoc).filter((e) => e.type === "TransformationEvent");
      expect(transformations.map((e) => e["cooptrace:lineage"])).to.deep.equal(["split", "merge"]);
      const split = transformations[0];
      expect(split).to.deep.include({
        bizStep: "commissioning",
        disposition: "active",
        inputQuantityList: [{ epcClass: ours(ids.rose), quantity: 300_000, uom: "GRM" }],
        outputQuantityList: [
          { epcClass: ours(ids.childA), quantity: 200_000, uom: "GRM" },
          { epcClass: ours(ids.childB), quantity: 100_000, uom: "GRM" },
        ],
        "cooptrace:txHash": r.split.hash,
        "cooptrace:actor": coopAdmin.address,
      });
      expect(split.ilmd).to.not.have.property("cooptrace:lotCode"); // two output lots: shared master data only
      expect(split.ilmd["cooptrace:productCode"]).to.equal("rose-petals");
      for (const child of ["childA", "childB"]) {
        const doc = exportOf(child);
        expectValid(doc);
        const events = eventsOf(doc);
        expect(
          events.filter((e) => e.action === "ADD"),
          "a split lot is created by the transformation",
        ).to.deep.equal([]);
        expect(events[0]).to.deep.equal(split);
      }
    });

    it("merge output: TransformationEvent from the parents' drawn quantities to the new lot with its Digital Link", function () {
      const doc = exportOf("water");
      expectValid(doc);
      const events = eventsOf(doc);
      const merge = events[0];
      expect(merge).to.deep.include({
        type: "TransformationEvent",
        bizStep: "commissioning",
        disposition: "active",
        inputQuantityList: [
          { epcClass: ours(ids.rose), quantity: 300_000, uom: "GRM" },
          { epcClass: ours(ids.rose2), quantity: 200_000, uom: "GRM" },
        ],
        outputQuantityList: [
          { epcClass: "https://id.gs1.org/01/06111234567895/10/RW-2026-01", quantity: 500, uom: "LTR" },
        ],
        "cooptrace:lineage": "merge",
        "cooptrace:txHash": r.merge.hash,
      });
      expect(merge.ilmd).to.deep.include({ "cooptrace:lotCode": "RW-2026-01", "cooptrace:productCode": "rose-water" });
      expect(events.filter((e) => e.action === "ADD")).to.deep.equal([]);
      // Each parent's document shows the same event.
      for (const parent of ["rose", "rose2"]) {
        expect(eventsOf(exportOf(parent)).find((e) => e.eventID === merge.eventID)).to.deep.equal(merge);
      }
    });

    it("sale shipped and released: shipping in_transit, then retail_selling retail_sold", function () {
      const b = batch("water");
      const sale = b.sales[0];
      const doc = exportOf("water");
      const saleEvents = eventsOf(doc).filter((e) => e["cooptrace:saleId"] === 1);
      expect(saleEvents.map((e) => [e.type, e.action, e.bizStep, e.disposition])).to.deep.equal([
        ["ObjectEvent", "OBSERVE", "shipping", "in_transit"],
        ["ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"],
      ]);
      const [shipping, released] = saleEvents;
      const water = { epcClass: "https://id.gs1.org/01/06111234567895/10/RW-2026-01", quantity: 100, uom: "LTR" };
      const po = [{ type: "po", bizTransaction: `${PUBLIC}/api/v1/sales/1` }];
      expect(shipping).to.deep.include({
        quantityList: [water],
        bizTransactionList: po,
        sourceList: [{ type: "owning_party", source: `${PUBLIC}/api/v1/cooperatives/1` }],
        destinationList: [{ type: "owning_party", destination: `did:pkh:eip155:${chainId}:${buyer.address}` }],
        "cooptrace:documentHash": keccakId("ship:1"),
        "cooptrace:txHash": sale.steps.find((s) => s.step === "shipped")!.chain.txHash,
      });
      expect(released).to.deep.include({
        quantityList: [water],
        bizTransactionList: po,
        "cooptrace:token": ZeroAddress,
        "cooptrace:gross": parseEther("1").toString(),
        "cooptrace:net": sale.releases[0].net,
        "cooptrace:txHash": sale.releases[0].chain.txHash,
      });
      expect(Date.parse(released.eventTime)).to.be.greaterThan(Date.parse(shipping.eventTime));
    });

    it("sale shipped and confirmed on a split lot: shipping, receiving in_progress, retail_selling", function () {
      const doc = exportOf("childA");
      const saleEvents = eventsOf(doc).filter((e) => e["cooptrace:saleId"] === 2);
      expect(saleEvents.map((e) => [e.bizStep, e.disposition, e["cooptrace:saleStep"]])).to.deep.equal([
        ["shipping", "in_transit", "shipped"],
        ["receiving", "in_progress", "confirmed"],
        ["retail_selling", "retail_sold", "released"],
      ]);
      for (const e of saleEvents) {
        expect(e.quantityList).to.deep.equal([{ epcClass: ours(ids.childA), quantity: 50_000, uom: "GRM" }]);
      }
      expect(saleEvents[1]["cooptrace:actor"]).to.equal(buyer.address);
    });

    it("stays valid when lineage neighbours cannot be looked up (names them by our URI)", function () {
      for (const label of ["rose", "childA", "water"]) {
        const doc = buildEpcisDocument(batch(label), { ...options(), lookupBatch: () => null }) as Json;
        expectValid(doc);
      }
      const water = buildEpcisDocument(batch("water"), { ...options(), lookupBatch: () => null }) as Json;
      const merge = eventsOf(water)[0];
      expect(merge.inputQuantityList).to.deep.equal([
        { epcClass: ours(ids.rose), quantity: 300_000 },
        { epcClass: ours(ids.rose2), quantity: 200_000 },
      ]);
      const child = buildEpcisDocument(batch("childB"), { ...options(), lookupBatch: () => null }) as Json;
      expect(eventsOf(child)[0]).to.deep.include({
        inputQuantityList: [{ epcClass: ours(ids.rose), quantity: 100_000 }],
        outputQuantityList: [{ epcClass: ours(ids.childB), quantity: 100_000, uom: "GRM" }],
      });
    });
  });
});
