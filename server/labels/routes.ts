/**
 * Label routes (public reads, like the batch itself):
 *  - GET /batches/:id/qr.svg  the QR code of the batch's public URL, as SVG
 *  - GET /batches/:id/qr.png  the same as a PNG, ?size= 128..1024 pixels (default 256)
 *  - GET /cooperatives/:id/labels.pdf  a printable A4 sheet with a label for each of its batches
 */
import type { Response, Router } from "express";
import { z } from "zod";
import type { GatewayContext } from "../api/context";
import type { OpenApiBuilder } from "../api/openapi";
import { ApiError } from "../api/problem";
import { bytes32, id } from "../api/validate";
import type { Batch } from "../index/queries";
import { MAX_PAGE_SIZE } from "../index/queries";
import { batchPublicUrl } from "../../domain/gs1";
import { labelSheetPdf, LABELS_PER_PAGE, type LabelInput } from "./pdf";
import { DEFAULT_PNG_SIZE, MAX_PNG_SIZE, MIN_PNG_SIZE, qrPng, qrSvg } from "./qr";

/**
 * At most this many labels in one PDF (10 pages): rendering takes a few milliseconds per label on
 * the event loop. `offset` prints the next ones; a `Link: rel="next"` header points to them.
 */
export const MAX_LABELS_PER_SHEET = 10 * LABELS_PER_PAGE;

const batchParams = z.object({ id: bytes32 });
const coopParams = z.object({ id });

/** A batch's identity never changes, but PUBLIC_URL might: cache for an hour, not forever. */
function cacheable(res: Response): void {
  res.setHeader("Cache-Control", "public, max-age=3600");
}

/** "1200 kg", with the unit as registered. */
function quantityText(batch: Pick<Batch, "quantity" | "unit">): string {
  return `${batch.quantity} ${batch.unit}`.trim();
}

export function labelRoutes(router: Router, api: OpenApiBuilder, ctx: GatewayContext): void {
  function batchUrl(batchId: string): string {
    const batch = ctx.queries.getBatch(batchId);
    if (!batch) throw new ApiError(404, "batch_not_found", `no batch ${batchId}`);
    return batchPublicUrl(ctx.publicUrl, batch);
  }

  api.defineRoute(router, {
    method: "get",
    path: "/batches/:id/qr.svg",
    summary: "QR code (SVG) of the batch's public URL: GS1 Digital Link when it has a GTIN (public)",
    tags: ["labels"],
    auth: [],
    params: batchParams,
    responses: { 200: "image/svg+xml", 400: "malformed id", 404: "unknown batch" },
    async handler({ params, res }) {
      const svg = await qrSvg(batchUrl(params.id));
      cacheable(res);
      res.type("image/svg+xml").send(svg);
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/batches/:id/qr.png",
    summary: `QR code (PNG, ${MIN_PNG_SIZE}–${MAX_PNG_SIZE} px square) of the batch's public URL (public)`,
    tags: ["labels"],
    auth: [],
    params: batchParams,
    query: z.object({
      size: z.coerce.number().int().min(MIN_PNG_SIZE).max(MAX_PNG_SIZE).default(DEFAULT_PNG_SIZE),
    }),
    responses: { 200: "image/png", 400: "malformed id or size", 404: "unknown batch" },
    async handler({ params, query, res }) {
      const png = await qrPng(batchUrl(params.id), query.size);
      cacheable(res);
      res.type("image/png").send(png);
    },
  });

  api.defineRoute(router, {
    method: "get",
    path: "/cooperatives/:id/labels.pdf",
    summary: `Printable label sheet (PDF, A4, ${LABELS_PER_PAGE} per page) for the cooperative's batches (public)`,
    tags: ["labels"],
    auth: [],
    params: coopParams,
    query: z.object({
      offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      limit: z.coerce.number().int().min(1).max(MAX_LABELS_PER_SHEET).default(MAX_LABELS_PER_SHEET),
    }),
    responses: { 200: "application/pdf", 400: "malformed id or paging", 404: "unknown cooperative" },
    async handler({ params, query, res }) {
      const coop = ctx.queries.getCooperative(params.id);
      if (!coop) throw new ApiError(404, "cooperative_not_found", `no cooperative ${params.id}`);
      // The index pages at most MAX_PAGE_SIZE rows at a time.
      const batches: Batch[] = [];
      let total = 0;
      for (let offset = query.offset; batches.length < query.limit;) {
        const page = ctx.queries.listBatches({
          cooperativeId: coop.cooperativeId,
          limit: Math.min(MAX_PAGE_SIZE, query.limit - batches.length),
          offset,
        });
        total = page.total;
        batches.push(...page.items);
        offset += page.items.length;
        if (page.items.length === 0 || offset >= page.total) break;
      }
      const labels: LabelInput[] = batches.map((b) => ({
        url: batchPublicUrl(ctx.publicUrl, b),
        product: b.productCode,
        lot: b.lotCode,
        cooperative: coop.name,
        quantity: quantityText(b),
      }));
      const pdf = await labelSheetPdf(labels, { title: `Labels: ${coop.name}` });
      res.setHeader("X-Total-Count", String(total));
      const next = query.offset + batches.length;
      if (batches.length > 0 && next < total) {
        res.setHeader("Link", `<?offset=${next}&limit=${query.limit}>; rel="next"`);
      }
      res.setHeader("Content-Disposition", `inline; filename="cooperative-${coop.cooperativeId}-labels.pdf"`);
      res.setHeader("Cache-Control", "no-cache");
      res.type("application/pdf").send(pdf);
    },
  });
}
