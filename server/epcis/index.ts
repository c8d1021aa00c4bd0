/**
 * EPCIS 2.0 export: a batch's on-chain history (from the index, `Queries.getBatch`) as a GS1
 * EPCISDocument in JSON-LD, valid against the official EPCIS 2.0 JSON Schema (see validate.ts).
 *
 * Mapping (one EPCIS event per on-chain fact; every event carries that fact as `cooptrace:` fields):
 * - registration of a harvest batch → ObjectEvent ADD, bizStep commissioning, disposition active,
 *   quantityList with the lot and its registered quantity, ilmd with product, origin, dates;
 * - each recorded step → ObjectEvent OBSERVE, bizStep the CBV 2.0 term when it is one, else a URI of
 *   our vocabulary `<publicUrl>/voc/bizstep/<term>` (a URI given on-chain is kept as it is);
 * - a split or a merge → TransformationEvent, bizStep commissioning (see `transformation`);
 * - a certification → ObjectEvent OBSERVE inspecting / conformant with `certificationInfo`; its
 *   revocation → ObjectEvent OBSERVE inspecting with the same certificationInfo and no disposition;
 * - a sale: shipped → shipping / in_transit, confirmed → receiving / in_progress, payment released →
 *   retail_selling / retail_sold (creation, funding, disputes, refunds are money, not movements of
 *   goods: they stay in the JSON API).
 */
import { createHash } from "node:crypto";
import { fullFormats } from "ajv-formats/dist/formats";
import { digitalLinkPath, LOT_PATTERN } from "../../domain/gs1";
import type { BatchDetail, ChainRef, LineageLink, SaleDetail } from "../index/queries";

export { validateEpcis } from "./validate";

export interface EpcisOptions {
  /** The gateway's public base URL (PUBLIC_URL), used for our own identifiers and vocabulary. */
  publicUrl: string;
  chainId: number;
  /** Other batches of the lineage (parents, children, siblings), to name them and their units. */
  lookupBatch: (batchId: string) => BatchDetail | null;
}

/** Our vocabulary for business steps CBV lacks (harvesting, drying, distilling): `<publicUrl>/voc/bizstep/<term>`. */
export const BIZSTEP_VOCABULARY_PATH = "/voc/bizstep/";

const EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/** Namespace of the `cooptrace:` extension fields, under our vocabulary. */
const NAMESPACE_PATH = "/voc/cooptrace#";
/** On-chain times are UTC seconds; EPCIS requires an offset with each event. */
const UTC = "+00:00";

/** CBV 2.0 business steps: the bare terms the schema enumerates (JSON-LD compact form of `https://ref.gs1.org/cbv/BizStep-<term>`). */
const CBV_BIZSTEPS = new Set([
  "accepting",
  "arriving",
  "assembling",
  "collecting",
  "commissioning",
  "consigning",
  "creating_class_instance",
  "cycle_counting",
  "decommissioning",
  "departing",
  "destroying",
  "disassembling",
  "dispensing",
  "encoding",
  "entering_exiting",
  "holding",
  "inspecting",
  "installing",
  "killing",
  "loading",
  "other",
  "packing",
  "picking",
  "receiving",
  "removing",
  "repackaging",
  "repairing",
  "replacing",
  "reserving",
  "retail_selling",
  "shipping",
  "staging_outbound",
  "stock_taking",
  "stocking",
  "storing",
  "transporting",
  "unloading",
  "unpacking",
  "void_shipping",
  "sensor_reporting",
  "sampling",
]);

/** The disposition CBV pairs with a recorded step, for the steps where the pairing is unambiguous. */
const STEP_DISPOSITION: Record<string, string> = {
  commissioning: "active",
  shipping: "in_transit",
  receiving: "in_progress",
  retail_selling: "retail_sold",
  destroying: "destroyed",
};

/** Our units → UN/ECE Recommendation 20 codes (the `uom` of a quantity element). */
const UOM: Record<string, string> = { g: "GRM", kg: "KGM", l: "LTR", ml: "MLT", piece: "H87" };

const isUri = fullFormats.uri as (value: string) => boolean;
/** The schema refuses a URI for a bizStep or disposition in the CBV 1.x URN or ns.gs1.org forms. */
const CBV_URI = /^(urn:epcglobal:cbv|https?:\/\/ns\.gs1\.org\/cbv\/)/;

type Json = Record<string, unknown>;

interface Built {
  event: Json;
  /** Sort key: event time (s), then chain order. */
  key: [number, number, number];
}

// ---- identifiers ---------------------------------------------------------------------------------

/** RFC 4122 version-5 (SHA-1, name-based) UUID. */
function uuidV5(namespace: string, name: string): string {
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(name, "utf8")
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * eventIDs are `urn:uuid:` v5 UUIDs (the form EPCIS names first for eventID) of the chain fact
 * `eip155:<chainId>:<txHash>:<logIndex>:<role>` in a fixed namespace: the same log gives the same
 * eventID in every batch's document and on every gateway, so documents of related batches can be
 * joined and deduplicated. (Not an `ni:///…?ver=CBV2.0` id: that form promises the CBV canonical
 * event hash, which these ids are not.)
 */
const EVENT_ID_NAMESPACE = uuidV5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "urn:cooptrace:epcis:eventID");

function toIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** Quantities are exact integer strings in the index; the schema wants JSON numbers. */
function toNumber(decimal: string): number {
  return Number(BigInt(decimal));
}

/** A recorded bizStep as the schema accepts it: CBV bare term, our vocabulary URI, or the given URI. */
function bizStepOf(raw: string, base: string): string {
  const value = raw.trim();
  const cbvTerm =
    /^urn:epcglobal:cbv:bizstep:(.+)$/.exec(value)?.[1] ??
    /^https?:\/\/(?:ref|ns)\.gs1\.org\/cbv\/BizStep-(.+)$/.exec(value)?.[1];
  const term = cbvTerm ?? value;
  if (CBV_BIZSTEPS.has(term)) return term;
  if (cbvTerm === undefined && isUri(value) && !CBV_URI.test(value)) return value;
  // A step CBV lacks ("harvesting", or a CBV-shaped URI naming one): our vocabulary.
  return `${base}${BIZSTEP_VOCABULARY_PATH}${encodeURIComponent(term)}`;
}

/** The builder's state for one document. */
class DocumentBuilder {
  readonly base: string;
  private readonly details = new Map<string, BatchDetail | null>();

  constructor(
    readonly batch: BatchDetail,
    private readonly options: EpcisOptions,
  ) {
    this.base = options.publicUrl.replace(/\/+$/, "");
    this.details.set(batch.batchId.toLowerCase(), batch);
  }

  detail(batchId: string): BatchDetail | null {
    const key = batchId.toLowerCase();
    if (!this.details.has(key)) this.details.set(key, this.options.lookupBatch(batchId));
    return this.details.get(key) ?? null;
  }

  /**
   * The class-level (lot) identifier. With a valid GTIN: the canonical GS1 Digital Link URI on
   * id.gs1.org — EPCIS 2.0 expects GS1 identifiers in event data in the canonical, domain-independent
   * form, so partners match them whatever resolver printed the label (our labels use our own host
   * for the same path, which the verify page resolves). Without a GTIN (or with an invalid one, or a
   * lot code outside AI 10): our URI `<publicUrl>/b/<batchId>` — EPCIS accepts any URI as epcClass.
   */
  classId(batchId: string): string {
    const d = this.detail(batchId);
    const path = d !== null && LOT_PATTERN.test(d.lotCode) ? digitalLinkPath(d.gtin, d.lotCode) : null;
    if (path !== null) return `https://id.gs1.org${path}`;
    return `${this.base}/b/${batchId.toLowerCase()}`;
  }

  quantity(batchId: string, quantity: string | undefined, unit: string | undefined): Json {
    const element: Json = { epcClass: this.classId(batchId) };
    if (quantity !== undefined) element.quantity = toNumber(quantity);
    const uom = unit === undefined ? undefined : (UOM[unit.trim().toLowerCase()] ?? unit);
    // A unit we cannot name in Rec 20 is left out (the quantity then counts items of the class).
    if (quantity !== undefined && uom !== undefined && /^[A-Z0-9]{2,3}$/.test(uom)) element.uom = uom;
    return element;
  }

  eventId(chain: ChainRef, role: string): string {
    const name = `eip155:${this.options.chainId}:${chain.txHash.toLowerCase()}:${chain.logIndex}:${role}`;
    return `urn:uuid:${uuidV5(EVENT_ID_NAMESPACE, name)}`;
  }

  facts(chain: ChainRef): Json {
    return {
      "cooptrace:chainId": this.options.chainId,
      "cooptrace:txHash": chain.txHash,
      "cooptrace:blockNumber": chain.blockNumber,
      "cooptrace:logIndex": chain.logIndex,
    };
  }

  /** readPoint and bizLocation when the recorded place is a URI (SGLN, Digital Link 414, geo:…). */
  place(location: string, stays = true): Json {
    const value = location.trim();
    if (value === "") return {};
    if (isUri(value))
      return stays ? { readPoint: { id: value }, bizLocation: { id: value } } : { readPoint: { id: value } };
    // Free text ("Tighmert") is no identifier: kept as an extension rather than made into a URI.
    return { "cooptrace:location": value };
  }

  ilmd(d: BatchDetail, withLot: boolean): Json {
    return {
      ...(withLot ? { "cooptrace:lotCode": d.lotCode } : {}),
      "cooptrace:productCode": d.productCode,
      ...(d.gtin !== "0" ? { "cooptrace:gtin": d.gtin.padStart(14, "0") } : {}),
      "cooptrace:origin": d.origin,
      "cooptrace:productionDate": toIso(d.productionDate),
      "cooptrace:unit": d.unit,
      "cooptrace:metadataHash": d.metadataHash,
      "cooptrace:cooperativeId": d.cooperativeId,
    };
  }

  event(type: string, eventTime: number, chain: ChainRef, role: string, body: Json): Built {
    return {
      event: {
        type,
        eventID: this.eventId(chain, role),
        eventTime: toIso(eventTime),
        eventTimeZoneOffset: UTC,
        // The chain is the repository that recorded the fact: its block time is the record time.
        recordTime: toIso(chain.blockTime),
        ...body,
        ...this.facts(chain),
      },
      key: [eventTime, chain.blockNumber, chain.logIndex],
    };
  }

  // ---- events ------------------------------------------------------------------------------------

  commissioning(): Built {
    const b = this.batch;
    // The lot came into being at production (harvest); registration gave it its identifier later.
    const time = b.productionDate > 0 && b.productionDate <= b.chain.blockTime ? b.productionDate : b.chain.blockTime;
    return this.event("ObjectEvent", time, b.chain, "registration", {
      action: "ADD",
      quantityList: [this.quantity(b.batchId, b.quantity, b.unit)],
      bizStep: "commissioning",
      disposition: "active",
      ...this.place(b.origin),
      ilmd: this.ilmd(b, true),
      "cooptrace:registeredBy": b.registeredBy,
    });
  }

  recorded(): Built[] {
    const b = this.batch;
    return b.events.map((e) => {
      const bizStep = bizStepOf(e.bizStep, this.base);
      const disposition = STEP_DISPOSITION[bizStep];
      return this.event("ObjectEvent", e.eventTime, e.chain, "event", {
        action: "OBSERVE",
        // No quantity: a recorded step names the lot, not how much of it the step concerned.
        quantityList: [{ epcClass: this.classId(b.batchId) }],
        bizStep,
        ...(disposition !== undefined ? { disposition } : {}),
        ...this.place(e.location, bizStep !== "shipping"),
        "cooptrace:bizStep": e.bizStep,
        "cooptrace:documentHash": e.documentHash,
        "cooptrace:recordedBy": e.recordedBy,
      });
    });
  }

  certifications(): Built[] {
    const b = this.batch;
    const out: Built[] = [];
    for (const c of b.certifications) {
      // certificationInfo is a URI: the certification as shown on the batch's verify page.
      const certificationInfo = `${this.base}/b/${b.batchId}#certification-${c.certificationId}`;
      const validUntil = BigInt(c.validUntil);
      const certified = this.event("ObjectEvent", c.chain.blockTime, c.chain, "certification", {
        action: "OBSERVE",
        quantityList: [{ epcClass: this.classId(b.batchId) }],
        bizStep: "inspecting",
        disposition: "conformant",
        certificationInfo,
        "cooptrace:certificationId": c.certificationId,
        "cooptrace:scheme": c.scheme,
        "cooptrace:certificateHash": c.certificateHash,
        "cooptrace:certifier": c.certifier,
        "cooptrace:validUntil": validUntil <= 8_640_000_000_000n ? toIso(Number(validUntil)) : c.validUntil,
      });
      out.push(certified);
      if (c.revocation !== null) {
        // No disposition: a disposition describes the goods, and one certificate withdrawn does not
        // make the lot non-conformant to its other schemes. The revocation names what it withdraws.
        out.push(
          this.event("ObjectEvent", c.revocation.chain.blockTime, c.revocation.chain, "revocation", {
            action: "OBSERVE",
            quantityList: [{ epcClass: this.classId(b.batchId) }],
            bizStep: "inspecting",
            certificationInfo,
            "cooptrace:certificationId": c.certificationId,
            "cooptrace:certificationStatus": "revoked",
            "cooptrace:revokes": certified.event.eventID,
            "cooptrace:reasonHash": c.revocation.reasonHash,
            "cooptrace:certifier": c.revocation.certifier,
          }),
        );
      }
    }
    return out;
  }

  /**
   * Splits and merges are TransformationEvents. A merge consumes quantities of its parent lots and
   * produces a new lot. A split is not an aggregation (AggregationEvent is for packing objects
   * into a parent container, identified by the container's id): the parent lot's quantity is divided
   * into new lots with their own lot numbers, i.e. new class-level identities are created from an
   * input — the TransformationEvent with the drawn quantity of the parent lot as input and each child
   * lot as output is the common practice for class-level lots. Its bizStep is commissioning (CBV:
   * associating a class-level identifier not used before with objects), disposition active, as in
   * GS1's TransformationEvent example.
   */
  transformation(
    kind: "split" | "merge",
    chain: ChainRef,
    actor: string,
    inputs: { batchId: string; quantity: string | undefined }[],
    outputs: { batchId: string; quantity: string | undefined }[],
  ): Built {
    const unitOf = (id: string) => this.detail(id)?.unit;
    const single = outputs.length === 1 ? this.detail(outputs[0].batchId) : null;
    const shared = kind === "split" ? this.detail(inputs[0].batchId) : null;
    const ilmd = single !== null ? this.ilmd(single, true) : shared !== null ? this.ilmd(shared, false) : null;
    return this.event("TransformationEvent", chain.blockTime, chain, kind, {
      inputQuantityList: inputs.map((i) => this.quantity(i.batchId, i.quantity, unitOf(i.batchId))),
      outputQuantityList: outputs.map((o) =>
        // A split child inherits the parent's unit.
        this.quantity(
          o.batchId,
          o.quantity,
          unitOf(o.batchId) ?? (kind === "split" ? unitOf(inputs[0].batchId) : undefined),
        ),
      ),
      bizStep: "commissioning",
      disposition: "active",
      ...(ilmd !== null ? { ilmd } : {}),
      "cooptrace:lineage": kind,
      "cooptrace:actor": actor,
    });
  }

  splitOf(parentId: string, links: LineageLink[], chain: ChainRef): Built {
    const total = links.reduce((sum, l) => sum + BigInt(l.quantity), 0n).toString();
    return this.transformation(
      "split",
      chain,
      links[0]?.actor ?? "",
      [{ batchId: parentId, quantity: total }],
      links.map((l) => ({ batchId: l.batchId, quantity: l.quantity })),
    );
  }

  mergeInto(outputId: string, parentLinks: LineageLink[], chain: ChainRef, actor: string): Built {
    const output = this.detail(outputId);
    return this.transformation(
      "merge",
      chain,
      actor,
      parentLinks.map((p) => ({ batchId: p.batchId, quantity: p.quantity })),
      [{ batchId: outputId, quantity: output?.quantity }],
    );
  }

  lineage(): Built[] {
    const b = this.batch;
    const out: Built[] = [];
    const key = (c: ChainRef) => `${c.txHash.toLowerCase()}:${c.logIndex}`;
    // How this batch was made.
    for (const group of groupBy(b.parents, (l) => key(l.chain))) {
      const first = group[0];
      if (first.kind === "merge") {
        out.push(this.mergeInto(b.batchId, group, first.chain, first.actor));
      } else {
        const parent = this.detail(first.batchId);
        const siblings = parent?.children.filter((c) => c.kind === "split" && key(c.chain) === key(first.chain));
        const links =
          siblings !== undefined && siblings.length > 0
            ? siblings
            : [{ ...first, batchId: b.batchId, quantity: b.quantity }];
        out.push(this.splitOf(first.batchId, links, first.chain));
      }
    }
    // What was made from it.
    for (const group of groupBy(b.children, (l) => key(l.chain))) {
      const first = group[0];
      if (first.kind === "split") {
        out.push(this.splitOf(b.batchId, group, first.chain));
      } else {
        const output = this.detail(first.batchId);
        const parents = output?.parents.filter((p) => p.kind === "merge" && key(p.chain) === key(first.chain));
        const inputs = parents !== undefined && parents.length > 0 ? parents : [{ ...first, batchId: b.batchId }];
        out.push(this.mergeInto(first.batchId, inputs, first.chain, first.actor));
      }
    }
    return out;
  }

  sales(): Built[] {
    const b = this.batch;
    const out: Built[] = [];
    for (const sale of b.sales) {
      const common = (s: SaleDetail): Json => ({
        action: "OBSERVE",
        quantityList: [this.quantity(b.batchId, s.quantity, b.unit)],
      });
      const transaction = {
        bizTransactionList: [{ type: "po", bizTransaction: `${this.base}/api/v1/sales/${sale.saleId}` }],
      };
      const cooperative = `${this.base}/api/v1/cooperatives/${sale.cooperativeId}`;
      const buyer = /^0x0{40}$/i.test(sale.buyer) ? null : `did:pkh:eip155:${this.options.chainId}:${sale.buyer}`;
      for (const step of sale.steps) {
        const extra = {
          "cooptrace:saleId": sale.saleId,
          "cooptrace:saleStep": step.step,
          ...(step.actor ? { "cooptrace:actor": step.actor } : {}),
        };
        // Every step is an ObjectEvent of the sale's quantity: the parties, then the step's own facts.
        const stepEvent = (role: string, bizStep: string, disposition: string, parties: Json, facts: Json = {}) =>
          out.push(
            this.event("ObjectEvent", step.chain.blockTime, step.chain, role, {
              ...common(sale),
              bizStep,
              disposition,
              ...transaction,
              ...parties,
              ...extra,
              ...facts,
            }),
          );
        const destination = buyer !== null ? { destinationList: [{ type: "owning_party", destination: buyer }] } : {};
        if (step.step === "shipped") {
          stepEvent(
            "sale-shipped",
            "shipping",
            "in_transit",
            { sourceList: [{ type: "owning_party", source: cooperative }], ...destination },
            sale.shipmentDocumentHash !== null ? { "cooptrace:documentHash": sale.shipmentDocumentHash } : {},
          );
        } else if (step.step === "confirmed") {
          stepEvent("sale-confirmed", "receiving", "in_progress", destination);
        } else if (step.step === "released") {
          // The moment ownership passes to the buyer in exchange for payment (CBV retail_selling).
          const release = sale.releases.find(
            (r) => r.chain.txHash === step.chain.txHash && r.chain.logIndex === step.chain.logIndex,
          );
          stepEvent(
            "sale-released",
            "retail_selling",
            "retail_sold",
            {},
            release !== undefined
              ? { "cooptrace:token": sale.token, "cooptrace:gross": release.gross, "cooptrace:net": release.net }
              : {},
          );
        }
      }
    }
    return out;
  }

  build(): Json {
    const b = this.batch;
    const built = [
      ...(b.kind === "registered" ? [this.commissioning()] : []),
      ...this.recorded(),
      ...this.certifications(),
      ...this.lineage(),
      ...this.sales(),
    ].sort((x, y) => x.key[0] - y.key[0] || x.key[1] - y.key[1] || x.key[2] - y.key[2]);
    // One event per chain fact, even if the batch plays two parts in it.
    const eventList = [...new Map(built.map(({ event }) => [event.eventID, event])).values()];
    return {
      "@context": [EPCIS_CONTEXT, { cooptrace: `${this.base}${NAMESPACE_PATH}` }],
      id: `${this.base}/api/v1/batches/${b.batchId}/epcis`,
      type: "EPCISDocument",
      schemaVersion: "2.0",
      creationDate: new Date().toISOString(),
      epcisBody: { eventList },
    };
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}

/** The batch's history as an EPCIS 2.0 EPCISDocument (JSON-LD). */
export function buildEpcisDocument(batch: BatchDetail, options: EpcisOptions): Record<string, unknown> {
  return new DocumentBuilder(batch, options).build();
}
