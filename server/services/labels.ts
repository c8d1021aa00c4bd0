/**
 * Labels of batches, from the index: the QR code of a batch's public URL (the GS1 Digital Link when it
 * has a GTIN, else /b/<batchId>) and printable PDF sheets of a cooperative's batches. Public reads,
 * like the batches themselves; the API serves them as images and PDF, the workspace will link them.
 */
import { z } from "zod";
import type { Batch, Queries } from "../index";
import { MAX_PAGE_SIZE } from "../index";
import { labelSheetPdf, MAX_LABELS_PER_SHEET, type LabelInput } from "../labels/pdf";
import { DEFAULT_PNG_SIZE, MAX_PNG_SIZE, MIN_PNG_SIZE, qrPng, qrSvg } from "../labels/qr";
import { batchPublicUrl } from "../../domain/gs1";
import { productNameIn } from "../labels/names";
import { notFound } from "./errors";
import { bytes32 } from "./schemas";

export const qrPngInput = z.object({
  size: z.coerce.number().int().min(MIN_PNG_SIZE).max(MAX_PNG_SIZE).default(DEFAULT_PNG_SIZE),
});
export type QrPngInput = z.output<typeof qrPngInput>;

export const labelSheetInput = z.object({
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_LABELS_PER_SHEET).default(MAX_LABELS_PER_SHEET),
  /** Only these lots of the cooperative (one or a selection; `?batch=…&batch=…`), in this order. */
  batch: z
    .union([bytes32, z.array(bytes32).min(1).max(MAX_LABELS_PER_SHEET)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
});
export type LabelSheetInput = z.output<typeof labelSheetInput>;

export interface LabelSheet {
  pdf: Buffer;
  cooperativeId: number;
  /** The cooperative's batches in all. */
  total: number;
  /** The offset of the next labels, null when this sheet holds the last ones. */
  next: number | null;
}

export interface LabelService {
  batchQrSvg(batchId: string): Promise<string>;
  batchQrPng(batchId: string, input: QrPngInput): Promise<Buffer>;
  labelSheet(cooperativeId: number, input: LabelSheetInput): Promise<LabelSheet>;
}

export interface LabelServiceDeps {
  queries: Pick<Queries, "getBatch" | "getCooperative" | "listBatches">;
  /** The gateway's public URL, which the QR codes encode. */
  publicUrl: () => string;
}

/** On every label, in the label's two languages. */
const SCAN_WORDS = "Scannez pour vérifier · امسح للتحقق";

/** "1200 kg", with the unit as registered. */
function quantityText(batch: Pick<Batch, "quantity" | "unit">): string {
  return `${batch.quantity} ${batch.unit}`.trim();
}

export function createLabelService(deps: LabelServiceDeps): LabelService {
  const { queries } = deps;

  function batchUrl(batchId: string): string {
    const batch = queries.getBatch(batchId);
    if (!batch) throw notFound("batch_not_found", `no batch ${batchId}`);
    return batchPublicUrl(deps.publicUrl(), batch);
  }

  /** `limit` batches of the cooperative from `offset`: the index pages at most MAX_PAGE_SIZE rows at a time. */
  function batchesOf(cooperativeId: number, input: LabelSheetInput): { batches: Batch[]; total: number } {
    if (input.batch !== undefined) return selected(cooperativeId, input.batch);
    const { offset, limit } = input;
    const batches: Batch[] = [];
    let total = 0;
    for (let at = offset; batches.length < limit;) {
      const page = queries.listBatches({
        cooperativeId,
        limit: Math.min(MAX_PAGE_SIZE, limit - batches.length),
        offset: at,
      });
      total = page.total;
      batches.push(...page.items);
      at += page.items.length;
      if (page.items.length === 0 || at >= page.total) break;
    }
    return { batches, total };
  }

  /** The lots asked for, each once, all of this cooperative (another's is "not found", as in the API). */
  function selected(cooperativeId: number, ids: string[]): { batches: Batch[]; total: number } {
    const batches = [...new Set(ids.map((id) => id.toLowerCase()))].map((id) => {
      const b = queries.getBatch(id);
      if (b === null || Number(b.cooperativeId) !== cooperativeId) throw notFound("batch_not_found", `no batch ${id}`);
      return b;
    });
    return { batches, total: batches.length };
  }

  return {
    batchQrSvg: (batchId) => qrSvg(batchUrl(batchId)),
    batchQrPng: (batchId, input) => qrPng(batchUrl(batchId), input.size),

    async labelSheet(cooperativeId, input) {
      const coop = queries.getCooperative(cooperativeId);
      if (!coop) throw notFound("cooperative_not_found", `no cooperative ${cooperativeId}`);
      const { batches, total } = batchesOf(coop.cooperativeId, input);
      const publicUrl = deps.publicUrl();
      const labels: LabelInput[] = batches.map((b) => ({
        url: batchPublicUrl(publicUrl, b),
        // Named in French and Arabic, as a shelf in Morocco reads it (never the raw code "rose-water").
        product: productNameIn("fr", b.productCode),
        productOther: productNameIn("ar", b.productCode),
        scan: SCAN_WORDS,
        shortUrl: batchPublicUrl(publicUrl, b).replace(/^https?:\/\//, ""),
        lot: b.lotCode,
        cooperative: coop.name,
        quantity: quantityText(b),
      }));
      const pdf = await labelSheetPdf(labels, { title: `Labels: ${coop.name}` });
      const next = input.batch === undefined ? input.offset + batches.length : total;
      return {
        pdf,
        cooperativeId: coop.cooperativeId,
        total,
        next: batches.length > 0 && next < total ? next : null,
      };
    },
  };
}
