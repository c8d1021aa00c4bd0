/**
 * Labels of batches, from the index: the QR code of a batch's public URL (the GS1 Digital Link when it
 * has a GTIN, else /b/<batchId>) and printable PDF labels for a shelf: one label per pack of the lots a
 * cooperative offers for sale (or of the lots it chooses), on the label stock it prints on. A lot whose
 * whole quantity went into other lots (split, merged, processed) is internal: it gets no label.
 */
import { z } from "zod";
import type { Batch, BatchDetail, Queries } from "../index";
import { MAX_PAGE_SIZE } from "../index";
import {
  LABEL_STOCKS,
  labelSheetPdf,
  MAX_LABELS_PER_PRINT,
  MAX_LABELS_PER_SHEET,
  type LabelInput,
} from "../labels/pdf";
import { DEFAULT_PNG_SIZE, MAX_PNG_SIZE, MIN_PNG_SIZE, qrPng, qrSvg } from "../labels/qr";
import { LABEL_LANGS, type LabelLang, type LabelWords } from "../labels/words";
import { batchPublicUrl, digitalLinkPath } from "../../domain/gs1";
import { DomainError, notFound } from "./errors";
import { bytes32 } from "./schemas";

export const qrPngInput = z.object({
  size: z.coerce.number().int().min(MIN_PNG_SIZE).max(MAX_PNG_SIZE).default(DEFAULT_PNG_SIZE),
});
export type QrPngInput = z.output<typeof qrPngInput>;

/** A repeated or comma-separated query parameter as a list. */
const list = (v: unknown) => (v === undefined ? undefined : [v].flat().flatMap((x) => String(x).split(",")));

export const labelSheetInput = z.object({
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_LABELS_PER_SHEET).default(MAX_LABELS_PER_SHEET),
  /** Only these lots of the cooperative (one or a selection; `?batch=…&batch=…`), in this order. */
  batch: z
    .union([bytes32, z.array(bytes32).min(1).max(MAX_LABELS_PER_SHEET)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  stock: z.enum(LABEL_STOCKS).default("a4-24"),
  /** The content of one pack, in `packUnit` (up to 3 decimals; "0,25" as typed in French too). */
  pack: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().replace(",", ".") : v),
    z
      .string()
      .regex(/^\d{1,9}(\.\d{1,3})?$/, "must be a number such as 250 or 0.25")
      .refine((s) => Number(s) > 0, "must be more than 0")
      .optional(),
  ),
  packUnit: z.string().trim().toLowerCase().min(1).max(16).optional(),
  /** How many labels; one per pack the lot holds when not given. */
  count: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** The languages of the label, most prominent first (the product's name in each; "scan to verify" in the first two). */
  languages: z.preprocess(
    list,
    z
      .array(z.enum(LABEL_LANGS))
      .min(2)
      .max(3)
      .refine((l) => new Set(l).size === l.length, "each language once")
      .default(["ar", "fr"]),
  ),
});
export type LabelSheetInput = z.output<typeof labelSheetInput>;

export interface LabelSheet {
  pdf: Buffer;
  cooperativeId: number;
  /** The lots that can be labelled in all (offered for sale, or those asked for). */
  total: number;
  /** The offset of the next lots, null when this sheet holds the last ones. */
  next: number | null;
  /** Labels in the PDF. */
  labels: number;
}

/** A lot that can be labelled, with what the print form offers. */
export interface LabelLot {
  batchId: string;
  productCode: string;
  lotCode: string;
  available: string;
  unit: string;
}

export interface LabelService {
  batchQrSvg(batchId: string): Promise<string>;
  batchQrPng(batchId: string, input: QrPngInput): Promise<Buffer>;
  labelSheet(cooperativeId: number, input: LabelSheetInput): Promise<LabelSheet>;
  /** The cooperative's lots offered for sale (not internal), in the order they were first offered. */
  lotsForSale(cooperativeId: number): LabelLot[];
}

export interface LabelServiceDeps {
  queries: Pick<Queries, "getBatch" | "getCooperative" | "listSales" | "findLots">;
  /** The gateway's public URL, which the QR codes encode. */
  publicUrl: () => string;
  /** The words of a label in a language (server/labels/words.ts). */
  words: (lang: LabelLang) => LabelWords;
  /** Unix seconds, for the validity of certifications. */
  now?: () => number;
}

// ---- packs: the pack's content against the lot's quantity, in whole thousandths of a base unit ----

const UNITS: Record<string, { family: string; factor: bigint }> = {
  g: { family: "mass", factor: 1n },
  kg: { family: "mass", factor: 1000n },
  ml: { family: "volume", factor: 1n },
  l: { family: "volume", factor: 1000n },
  piece: { family: "piece", factor: 1n },
  pieces: { family: "piece", factor: 1n },
};
/** A pack when none is said: a bottle of rose water, a box of dates, one piece. */
const DEFAULT_PACK: Record<string, { pack: string; unit: string }> = {
  mass: { pack: "500", unit: "g" },
  volume: { pack: "250", unit: "ml" },
  piece: { pack: "1", unit: "piece" },
};
const unitOf = (unit: string) => UNITS[unit.toLowerCase()] ?? { family: `=${unit.toLowerCase()}`, factor: 1n };
const thousandths = (decimal: string) => {
  const [whole, frac = ""] = decimal.split(".");
  return BigInt(whole) * 1000n + BigInt(frac.padEnd(3, "0"));
};

/** How many packs of `pack` `packUnit` the lot's `available` `unit` makes; an invalid field when the units differ. */
export function packsIn(available: string, unit: string, pack: string, packUnit: string): bigint {
  const lot = unitOf(unit);
  const p = unitOf(packUnit);
  if (lot.family !== p.family) {
    throw new DomainError(
      "invalid",
      "pack_unit_mismatch",
      `packUnit: ${packUnit} does not measure a lot counted in ${unit}`,
      {
        errors: [{ field: "packUnit", message: `does not measure a lot counted in ${unit}` }],
        unit,
      },
    );
  }
  return (BigInt(available) * lot.factor * 1000n) / (thousandths(pack) * p.factor);
}

// ---- protected origin marks (../shared/DOMAIN.md; names to check with the certifier before relying on them) ----

const ORIGIN_MARKS: Record<string, string> = {
  "rose-petals": "AOP Rose de Kelâat M'Gouna-Dadès",
  "rose-petals-fresh": "AOP Rose de Kelâat M'Gouna-Dadès",
  "rose-buds": "AOP Rose de Kelâat M'Gouna-Dadès",
  "rose-water": "AOP Rose de Kelâat M'Gouna-Dadès",
  "rose-oil": "AOP Rose de Kelâat M'Gouna-Dadès",
  "dates-mejhoul": "IGP Dattes Majhoul de Tafilalet",
  almonds: "IGP Amandes d'Amellago-Assoul",
  apples: "IGP Pomme de Midelt",
  saffron: "AOP Safran de Taliouine",
};
const ORIGIN_SCHEME = /^\s*(AOP|IGP|AOC|PDO|PGI)\b/i;
const BARE_SCHEME = /^\s*(AOP|IGP|AOC|PDO|PGI)(\s*\/\s*(AOP|IGP|AOC|PDO|PGI))?\s*(\(.*\))?\s*$/i;

/**
 * The AOP/IGP mark a lot may print: from a certification that is neither revoked nor expired and whose
 * scheme is a protected origin. A scheme that names the label is printed as recorded; a bare "AOP/IGP"
 * takes the product's label, when the product has one.
 */
export function originMark(batch: Pick<BatchDetail, "productCode" | "certifications">, now: number): string | null {
  for (const cert of batch.certifications) {
    if (cert.revoked || BigInt(cert.validUntil) <= BigInt(now) || !ORIGIN_SCHEME.test(cert.scheme)) continue;
    if (!BARE_SCHEME.test(cert.scheme)) return cert.scheme.trim();
    const named = ORIGIN_MARKS[batch.productCode];
    if (named) return named;
    return cert.scheme.trim();
  }
  return null;
}

const LATIN_LANGS: readonly LabelLang[] = ["fr", "en"];

export function createLabelService(deps: LabelServiceDeps): LabelService {
  const { queries } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));

  function batchUrl(batchId: string): string {
    const batch = queries.getBatch(batchId);
    if (!batch) throw notFound("batch_not_found", `no batch ${batchId}`);
    return batchPublicUrl(deps.publicUrl(), batch);
  }

  /** Everything of the lot went into other lots: it is no longer on any shelf. */
  const isInternal = (b: BatchDetail) => BigInt(b.available) === 0n && b.children.length > 0;

  /** The lots with a sale that is not cancelled or refunded, in the order of their first such sale. */
  function offeredIds(cooperativeId: number): string[] {
    const ids: string[] = [];
    for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
      const page = queries.listSales({ cooperativeId, limit: MAX_PAGE_SIZE, offset });
      for (const s of page.items) if (s.state !== "Cancelled" && s.state !== "Refunded") ids.push(s.batchId);
      if (page.items.length === 0 || offset + page.items.length >= page.total) break;
    }
    return [...new Set(ids)];
  }

  function lotsForSale(cooperativeId: number): BatchDetail[] {
    return offeredIds(cooperativeId)
      .map((id) => queries.getBatch(id))
      .filter((b): b is BatchDetail => b !== null && !isInternal(b));
  }

  /** The lots asked for, each once, all of this cooperative (another's is "not found", as in the API). */
  function selected(cooperativeId: number, ids: string[]): BatchDetail[] {
    return [...new Set(ids.map((id) => id.toLowerCase()))].map((id) => {
      const b = queries.getBatch(id);
      if (b === null || Number(b.cooperativeId) !== cooperativeId) throw notFound("batch_not_found", `no batch ${id}`);
      if (isInternal(b)) {
        const message = `lot ${b.lotCode} went entirely into other lots (split, merged or processed): label those lots`;
        throw new DomainError("invalid", "batch_internal", `batch: ${message}`, {
          errors: [{ field: "batch", message }],
        });
      }
      return b;
    });
  }

  /** The address a person types: the Digital Link, else the lot search when the code is unique, else /b/<id>. */
  function shortUrl(b: Batch): string {
    const base = deps
      .publicUrl()
      .replace(/\/+$/, "")
      .replace(/^https?:\/\//, "");
    const link = digitalLinkPath(b.gtin, b.lotCode);
    if (link !== null) return base + link;
    const found = queries.findLots({ lot: b.lotCode });
    if (found.length === 1 && found[0].batchId === b.batchId)
      return `${base}/find?lot=${encodeURIComponent(b.lotCode)}`;
    return `${base}/b/${b.batchId}`;
  }

  /** One lot's label and how many of it: one per pack. */
  function labelOf(
    b: BatchDetail,
    coopName: string,
    input: LabelSheetInput,
    words: LabelWords[],
  ): { label: LabelInput; count: bigint } {
    const fallback = DEFAULT_PACK[unitOf(b.unit).family] ?? { pack: "1", unit: b.unit };
    const pack = input.pack ?? (input.packUnit === undefined ? fallback.pack : "1");
    const packUnit = input.packUnit ?? (input.pack === undefined ? fallback.unit : b.unit);
    const packs = packsIn(b.available, b.unit, pack, packUnit);
    const count = input.count === undefined ? packs : BigInt(input.count);
    if (packs === 0n || count > packs) {
      const message = `lot ${b.lotCode} holds ${b.available} ${b.unit}: ${packs} packs of ${pack} ${packUnit}`;
      throw new DomainError("invalid", "not_enough_in_lot", `count: ${message}`, {
        errors: [{ field: input.count === undefined ? "pack" : "count", message }],
        packs: Number(packs),
      });
    }
    // Figures and dates in the first Latin-script language: what a buyer abroad and a Moroccan shop both read.
    const main = words[input.languages.findIndex((l) => LATIN_LANGS.includes(l))] ?? words[0];
    const label: LabelInput = {
      url: batchPublicUrl(deps.publicUrl(), b),
      shortUrl: shortUrl(b),
      names: [...new Set(words.map((w) => w.productName(b.productCode)))],
      pack: `${main.number(thousandths(pack), 3)} ${main.unitName(packUnit)}`,
      lot: b.lotCode,
      date: b.productionDate > 0 ? main.date(b.productionDate) : "",
      scan: [...new Set(words.slice(0, 2).map((w) => w.scanToVerify))],
      mark: originMark(b, now()),
      cooperative: coopName,
    };
    return { label, count };
  }

  return {
    batchQrSvg: (batchId) => qrSvg(batchUrl(batchId)),
    batchQrPng: (batchId, input) => qrPng(batchUrl(batchId), input.size),
    lotsForSale: (cooperativeId) =>
      lotsForSale(cooperativeId).map((b) => ({
        batchId: b.batchId,
        productCode: b.productCode,
        lotCode: b.lotCode,
        available: b.available,
        unit: b.unit,
      })),

    async labelSheet(cooperativeId, input) {
      const coop = queries.getCooperative(cooperativeId);
      if (!coop) throw notFound("cooperative_not_found", `no cooperative ${cooperativeId}`);
      const all =
        input.batch === undefined ? lotsForSale(coop.cooperativeId) : selected(coop.cooperativeId, input.batch);
      const batches = input.batch === undefined ? all.slice(input.offset, input.offset + input.limit) : all;
      const words = input.languages.map((l) => deps.words(l));
      const perLot = batches.map((b) => labelOf(b, coop.name, input, words));
      const count = perLot.reduce((n, l) => n + l.count, 0n);
      if (count > BigInt(MAX_LABELS_PER_PRINT)) {
        // Refused rather than cut short: a sheet that silently stops at 650 of 4,000 bottles is worse.
        const message = `${count} labels asked for, at most ${MAX_LABELS_PER_PRINT} at once: choose a larger pack, a count or fewer lots`;
        throw new DomainError("invalid", "too_many_labels", `count: ${message}`, {
          errors: [{ field: input.count === undefined ? "pack" : "count", message }],
          labels: Number(count),
          max: MAX_LABELS_PER_PRINT,
        });
      }
      const labels = perLot.flatMap((l) => Array.from({ length: Number(l.count) }, () => l.label));
      const pdf = await labelSheetPdf(labels, { title: `Labels: ${coop.name}`, stock: input.stock });
      const next = input.batch === undefined ? input.offset + batches.length : all.length;
      return {
        pdf,
        cooperativeId: coop.cooperativeId,
        total: all.length,
        next: batches.length > 0 && next < all.length ? next : null,
        labels: labels.length,
      };
    },
  };
}
