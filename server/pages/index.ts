/**
 * The public pages: the verify page of a batch (`/b/:batchId` and the GS1 Digital Link
 * `/01/:gtin/10/:lot`), the market of open offers (`/market`) and their style sheet. Server-rendered
 * HTML in four languages, no script at all (the Content-Security-Policy forbids it), and the same
 * URLs answer JSON or EPCIS 2.0 JSON-LD by content negotiation.
 *
 * A page says "checked on the blockchain" only when the node answers and the index follows it within
 * its lag bound; otherwise it answers 503 and shows no facts.
 */
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from "express";
import type { HttpSettings } from "../api/context";
import { sendProblem } from "../api/problem";
import { MAX_INDEX_LAG } from "../api/routes/health";
import { isValidGtin } from "../api/validate";
import { buildEpcisDocument } from "../epcis";
import { FONTS, STYLESHEET } from "./assets";
import { createChainCheck, type ChainCheck } from "./chainCheck";
import { PageCache, etagOf, type CachedPage } from "./cache";
import { CATALOGS, chooseLang, type Catalog } from "./i18n";
import { hrefFor, languageLinks, pageHref } from "./links";
import { buildVerifyModel, ratesOf, toJson, verifyCommandOf } from "./model";
import type { TokenInfo } from "./tokens";
import type { Logger } from "../log";
import type { Services } from "../services";
import { statusPage, type StatusKind } from "./views/errors";
import { marketPage } from "./views/market";
import { verifyPage } from "./views/verify";

export { PageCache, DEFAULT_PAGE_CACHE_BYTES } from "./cache";
export { hrefFor, languageLinks, pageHref } from "./links";

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface PageRouteOptions {
  /** How long a good chain check is reused (ms). */
  chainCheckTtlMs?: number;
  /** Blocks the index may trail the chain and still be shown as verified. */
  maxIndexLag?: number;
  /** The rendered-page cache (default: a new one of DEFAULT_PAGE_CACHE_BYTES); tests pass theirs to watch it. */
  cache?: PageCache;
}

type Format = "html" | "json" | "ld";

const BATCH_ID = /^0x[0-9a-fA-F]{64}$/;
/** GS1 AI (10): up to 20 characters of the GS1 AI encodable set 82 (as the API accepts for lot codes). */
const LOT = /^[\x21-\x22\x25-\x2F\x30-\x39\x3A-\x3F\x41-\x5A\x5F\x61-\x7A]{1,20}$/;
const MARKET_PAGE_SIZE = 20;

/** What a verify URL names; `path` is its canonical path, the one its links repeat. */
type Target =
  { kind: "id"; batchId: string } | { kind: "gtinLot"; gtin: bigint; lot: string; path: string } | { kind: "badCode" };

/** Content types as sent, charset included (a cached body is a Buffer, which Express does not label). */
const CONTENT_TYPES: Record<Format, string> = {
  html: "text/html; charset=utf-8",
  json: "application/json; charset=utf-8",
  ld: "application/ld+json; charset=utf-8",
};

function negotiate(req: Request): Format | null {
  switch (req.accepts(["text/html", "application/json", "application/ld+json"])) {
    case "text/html":
      return "html";
    case "application/json":
      return "json";
    case "application/ld+json":
      return "ld";
    default:
      return null;
  }
}

function catalogFor(req: Request): Catalog {
  return CATALOGS[chooseLang(req.query.lang, req.get("accept-language"))];
}

function setPageHeaders(res: Response, c: Catalog): void {
  res.set({
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Language": c.lang,
  });
  res.vary("Accept");
  res.vary("Accept-Language");
}

function queryText(value: unknown, max = 128): string | undefined {
  return typeof value === "string" && value !== "" ? value.slice(0, max) : undefined;
}

/** What the public pages read: the index, token symbols, the chain's state; the public URL and the chain's id. */
export interface PageDeps {
  services: Pick<Services, "reads" | "tokens" | "network" | "payouts" | "users">;
  settings: Pick<HttpSettings, "publicUrl" | "chainId" | "embedded" | "networkName" | "explorerUrl" | "publicRpcUrl">;
  log: Logger;
}

const DETAIL: Record<StatusKind, [string, string]> = {
  notFound: ["batch_not_found", "no batch is recorded under this identifier"],
  badCode: ["invalid_code", "the GTIN (bad GS1 check digit or length) or the lot in this link is not valid"],
  unavailable: [
    "chain_unavailable",
    "the chain cannot be reached or the index is behind it: nothing can be confirmed now",
  ],
  error: ["internal", "an internal error occurred; it was logged"],
};

/** A page's failure: a problem (JSON or EPCIS asked) or a status page in the reader's language, never cached. */
function fail(
  req: Request,
  res: Response,
  format: Format,
  c: Catalog,
  status: number,
  kind: StatusKind,
  extra: { verifyCommand?: string; reason?: string } = {},
): void {
  res.set("Cache-Control", "no-store");
  if (status === 503) res.set("Retry-After", "5");
  if (format !== "html") {
    const [code, detail] = DETAIL[kind];
    sendProblem(res, status, code, detail, extra.reason ? { reason: extra.reason } : {});
    return;
  }
  res
    .status(status)
    .type("html")
    .send(statusPage(kind, c, hrefFor(req), extra));
}

/** The verify page of a batch, by id or by GTIN and lot, in HTML, JSON or EPCIS, rendered once per chain check. */
function verifyRoute(deps: PageDeps, check: () => Promise<ChainCheck>, rendered: PageCache) {
  const { reads, tokens, network } = deps.services;
  const { settings } = deps;
  // Only a node published for everyone (PUBLIC_RPC_URL): the gateway's own may be a loopback address
  // (useless to a visitor) or hold an API key.
  const publicRpcUrl = settings.publicRpcUrl;
  const commandFor = (batchId: string) =>
    verifyCommandOf(settings.publicUrl.replace(/\/+$/, ""), batchId, settings.chainId, publicRpcUrl);
  const networkInfo = { name: settings.networkName, explorerUrl: settings.explorerUrl, embedded: settings.embedded };

  const renders = new Map<string, Promise<Rendered>>();
  return verify;

  async function verify(req: Request, res: Response, target: Target): Promise<void> {
    const c = catalogFor(req);
    setPageHeaders(res, c);
    const format = negotiate(req);
    if (format === null) {
      sendProblem(res, 406, "not_acceptable", "this URL answers text/html, application/json or application/ld+json");
      return;
    }
    if (target.kind === "badCode") return fail(req, res, format, c, 400, "badCode");
    const batchId =
      target.kind === "id"
        ? BATCH_ID.test(target.batchId)
          ? target.batchId.toLowerCase()
          : null
        : reads.batchByGtinLot(target.gtin, target.lot);

    const state = await check();
    if (!state.ok) {
      deps.log.warn({ reason: state.reason }, "verify page: cannot confirm");
      return fail(req, res, format, c, 503, "unavailable", {
        verifyCommand: batchId ? commandFor(batchId) : undefined,
        reason: state.reason,
      });
    }
    // The same page for the same chain check (shared by all requests for ttl) is rendered once. The key
    // is what changes the answer: JSON and EPCIS are the same in every language and under every path;
    // the HTML differs by language and by the canonical path its language links repeat. Never the
    // query string: any parameter a visitor adds would otherwise be a new entry (issue 10, finding 1).
    const path = target.kind === "id" ? `/b/${batchId}` : target.path;
    const cacheKey = format === "html" ? `html|${c.lang}|${batchId}|${path}` : `${format}|${batchId}`;
    // The chain check is shared for its ttl, so the index may have moved under it (a revocation
    // indexed a moment ago): a page is only reused while the index still stands where it was rendered.
    const indexed = network.indexedBlock();
    const hit = rendered.get(cacheKey);
    if (hit !== undefined && hit.indexed === indexed && (hit.state === state || renders.has(cacheKey))) {
      // Under a newer check than the page's, one request renders it again and the others are served the
      // page of the check before (never older than one check's ttl, and only while the index has not
      // moved): a page that expires under load is not rendered by every request waiting for it.
      return sendCached(res, hit);
    }
    let render = renders.get(cacheKey);
    if (render === undefined) {
      render = renderPage(batchId, format, c, path, state, indexed).finally(() => renders.delete(cacheKey));
      renders.set(cacheKey, render);
    }
    const outcome = await render;
    if (outcome.kind === "notFound") return fail(req, res, format, c, 404, "notFound");
    if (outcome.kind === "unavailable")
      return fail(req, res, format, c, 503, "unavailable", { verifyCommand: outcome.verifyCommand });
    rendered.set(cacheKey, outcome.page);
    sendCached(res, outcome.page);
  }

  /** A rendered page (HTML, JSON or EPCIS), or why there is none; one render per cache key at a time. */
  async function renderPage(
    batchId: string | null,
    format: Format,
    c: Catalog,
    path: string,
    state: ChainCheck & { ok: true },
    indexed: number,
  ): Promise<Rendered> {
    const batch = batchId === null ? null : reads.getBatch(batchId);
    if (batch === null) return { kind: "notFound" };
    let model;
    try {
      model = await buildVerifyModel(batch, state, {
        publicUrl: settings.publicUrl,
        deployment: network.deployment,
        publicRpcUrl,
        tokens,
        labels: (ids) => reads.labels(ids),
        payouts: (cooperativeId, accounts) => deps.services.payouts.lotSummary(cooperativeId, accounts),
        rate: (currency) => deps.services.payouts.latestRate(currency),
        network: networkInfo,
        certifierName: (address) => deps.services.users.certifierName(address),
      });
    } catch (err) {
      // A token's decimals could not be read: amounts cannot be shown truthfully.
      deps.log.warn({ err: String((err as Error)?.message ?? err), batchId }, "verify page: chain read failed");
      return { kind: "unavailable", verifyCommand: commandFor(batch.batchId) };
    }
    let text: string;
    if (format === "json") {
      text = JSON.stringify(toJson(model));
    } else if (format === "ld") {
      const doc = buildEpcisDocument(batch, {
        publicUrl: settings.publicUrl,
        chainId: settings.chainId,
        lookupBatch: (id) => reads.getBatch(id),
      });
      text = JSON.stringify(doc);
    } else {
      text = verifyPage(model, c, languageLinks(path), publicRpcUrl !== null);
    }
    const body = Buffer.from(text, "utf8");
    return { kind: "page", page: { state, indexed, type: CONTENT_TYPES[format], body, etag: etagOf(body) } };
  }
}

type Rendered =
  { kind: "page"; page: CachedPage } | { kind: "notFound" } | { kind: "unavailable"; verifyCommand: string };

/** A rendered page with its validator: a visitor who has it gets 304 (Express compares If-None-Match). */
function sendCached(res: Response, page: CachedPage): void {
  res.set({ "Cache-Control": "public, max-age=15", "Content-Type": page.type, ETag: page.etag });
  res.send(page.body);
}

/** The market of open offers, filtered by product and region, paged; HTML or JSON. */
function marketRoute(deps: PageDeps, check: () => Promise<ChainCheck>): RequestHandler {
  const { reads, tokens } = deps.services;
  return async (req, res) => {
    const c = catalogFor(req);
    setPageHeaders(res, c);
    const format = negotiate(req);
    if (format === null || format === "ld") {
      sendProblem(res, 406, "not_acceptable", "this URL answers text/html or application/json");
      return;
    }
    const product = queryText(req.query.product);
    const region = queryText(req.query.region);
    const pageNumber = Math.min(Math.max(Number.parseInt(String(req.query.page ?? "1"), 10) || 1, 1), 10_000);
    const { items, total } = reads.openOffers({
      productCode: product,
      region,
      limit: MARKET_PAGE_SIZE,
      offset: (pageNumber - 1) * MARKET_PAGE_SIZE,
    });
    const state = await check();
    const known = new Map<string, TokenInfo>();
    for (const address of new Set(items.map((o) => o.token))) {
      try {
        known.set(address, await tokens(address));
      } catch {
        // Shown in the token's smallest unit, without a symbol, rather than not at all.
      }
    }
    res.set("Cache-Control", "public, max-age=15");
    if (format === "json") {
      res.json({
        checked: state.ok,
        total,
        page: pageNumber,
        pageSize: MARKET_PAGE_SIZE,
        items: items.map((o) => ({ ...o, tokenInfo: known.get(o.token) ?? null })),
      });
      return;
    }
    // Links carry the filters and the page the market reads (each at most 128 characters), nothing else.
    const filters = { product, region };
    const pageLink = (n: number) => pageHref("/market", { ...filters, page: n, lang: c.lang });
    res.type("html").send(
      marketPage(
        {
          offers: items,
          total,
          tokens: known,
          rates: ratesOf(known, (currency) => deps.services.payouts.latestRate(currency)),
          choices: reads.offerChoices(),
          product,
          region,
          checked: state.ok,
          previousHref: pageNumber > 1 ? pageLink(pageNumber - 1) : null,
          nextHref: pageNumber * MARKET_PAGE_SIZE < total ? pageLink(pageNumber + 1) : null,
        },
        c,
        languageLinks("/market", { ...filters, page: pageNumber > 1 ? pageNumber : undefined }),
      ),
    );
  };
}

export function pageRoutes(app: Express, deps: PageDeps, options: PageRouteOptions = {}): void {
  const check = createChainCheck({
    network: deps.services.network,
    maxLag: options.maxIndexLag ?? MAX_INDEX_LAG,
    ttlMs: options.chainCheckTtlMs,
  });
  const verify = verifyRoute(deps, check, options.cache ?? new PageCache());

  app.get(STYLESHEET.path, (_req, res) => {
    res
      .set({
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Type": "text/css; charset=utf-8",
      })
      .send(STYLESHEET.body);
  });
  for (const font of FONTS)
    app.get(font.path, (_req, res) => {
      res
        .set({
          "Cache-Control": "public, max-age=31536000, immutable",
          "X-Content-Type-Options": "nosniff",
          "Content-Type": font.contentType,
        })
        .send(font.body);
    });

  app.get("/b/:batchId", (req, res) => verify(req, res, { kind: "id", batchId: String(req.params.batchId) }));

  // GS1 Digital Link: the GTIN in 8, 12, 13 or 14 digits (padded to 14 to look it up), the lot
  // percent-decoded by the router (and encoded again in the page's own links).
  app.get("/01/:gtin/10/:lot", (req, res) => {
    const gtin = String(req.params.gtin);
    const lot = String(req.params.lot);
    const target: Target =
      isValidGtin(gtin) && LOT.test(lot)
        ? { kind: "gtinLot", gtin: BigInt(gtin), lot, path: `/01/${gtin}/10/${encodeURIComponent(lot)}` }
        : { kind: "badCode" };
    return verify(req, res, target);
  });

  app.get("/market", marketRoute(deps, check));

  // Errors of these routes (a malformed percent-encoding, a bug) as a page in the reader's language.
  const pageErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const c = catalogFor(req);
    setPageHeaders(res, c);
    const format = negotiate(req) ?? "html";
    const status = (err as { status?: number })?.status === 400 || err instanceof URIError ? 400 : 500;
    if (status === 500) deps.log.error({ err, path: req.path }, "page failed");
    fail(req, res, format, c, status, status === 400 ? "badCode" : "error");
  };
  app.use(["/b", "/01", "/market"], pageErrors);
}
