/**
 * Label routes (public reads, like the batch itself):
 *  - GET /batches/:id/qr.svg  the QR code of the batch's public URL, as SVG
 *  - GET /batches/:id/qr.png  the same as a PNG, ?size= 128..1024 pixels (default 256)
 *  - GET /cooperatives/:id/labels.pdf  printable labels, one per pack, of the lots it offers for sale (or of
 *    the lots asked for), on a common label stock
 * Parse, call the label service (server/services/labels.ts), answer with the headers of each format.
 */
import type { Response, Router } from "express";
import { z } from "zod";
import type { OpenApiBuilder, RouteSpec } from "../api/openapi";
import { bytes32, id } from "../api/validate";
import type { Services } from "../services";
import { labelSheetInput, qrPngInput } from "../services/labels";
import { MAX_LABELS_PER_PRINT } from "./pdf";
import { MAX_PNG_SIZE, MIN_PNG_SIZE } from "./qr";

const batchParams = z.object({ id: bytes32 });
const coopParams = z.object({ id });
/** What every label route is: a public read (no token), listed under "labels". */
const PUBLIC_READ: Pick<RouteSpec<z.ZodType, z.ZodType, z.ZodType>, "method" | "tags" | "auth"> = {
  method: "get",
  tags: ["labels"],
  auth: [],
};

/** A batch's identity never changes, but PUBLIC_URL might: cache for an hour, not forever. */
function cacheable(res: Response): void {
  res.setHeader("Cache-Control", "public, max-age=3600");
}

/**
 * A QR image is public and made to be shown elsewhere (a shop's product page, a cooperative's site):
 * other origins may embed it, in place of helmet's default `same-origin`.
 */
function embeddable(res: Response): void {
  res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
}

/** A batch's QR image: cached for an hour and embeddable elsewhere (see above). */
function sendQr(res: Response, type: "image/svg+xml" | "image/png", image: string | Buffer): void {
  cacheable(res);
  embeddable(res);
  res.type(type).send(image);
}

export function labelRoutes(router: Router, api: OpenApiBuilder, services: Services): void {
  const { labels } = services;

  api.defineRoute(router, {
    ...PUBLIC_READ,
    path: "/batches/:id/qr.svg",
    summary: "QR code (SVG) of the batch's public URL: GS1 Digital Link when it has a GTIN (public)",
    params: batchParams,
    responses: { 200: "image/svg+xml", 400: "malformed id", 404: "unknown batch" },
    async handler({ params, res }) {
      sendQr(res, "image/svg+xml", await labels.batchQrSvg(params.id));
    },
  });

  api.defineRoute(router, {
    ...PUBLIC_READ,
    path: "/batches/:id/qr.png",
    summary: `QR code (PNG, ${MIN_PNG_SIZE}–${MAX_PNG_SIZE} px square) of the batch's public URL (public)`,
    params: batchParams,
    query: qrPngInput,
    responses: { 200: "image/png", 400: "malformed id or size", 404: "unknown batch" },
    async handler({ params, query, res }) {
      sendQr(res, "image/png", await labels.batchQrPng(params.id, query));
    },
  });

  api.defineRoute(router, {
    ...PUBLIC_READ,
    path: "/cooperatives/:id/labels.pdf",
    summary:
      "Printable labels (PDF), one per pack, of the lots the cooperative offers for sale or of those in ?batch=, " +
      `on A4 sheets of 24 or 65 or a 62 mm roll (?stock=); at most ${MAX_LABELS_PER_PRINT} labels (public)`,
    params: coopParams,
    query: labelSheetInput,
    responses: {
      200: "application/pdf",
      400: "malformed id or paging, a pack that does not fit the lot, too many labels, an internal lot",
      404: "unknown cooperative or lot",
    },
    async handler({ params, query, res }) {
      const sheet = await labels.labelSheet(params.id, query);
      res.setHeader("X-Total-Count", String(sheet.total));
      res.setHeader("X-Label-Count", String(sheet.labels));
      if (sheet.next !== null) res.setHeader("Link", `<?offset=${sheet.next}&limit=${query.limit}>; rel="next"`);
      res.setHeader("Content-Disposition", `inline; filename="cooperative-${sheet.cooperativeId}-labels.pdf"`);
      res.setHeader("Cache-Control", "no-cache");
      res.type("application/pdf").send(sheet.pdf);
    },
  });
}
