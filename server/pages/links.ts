/**
 * Links of the server-rendered pages (verify, market, stats, audit): the same page in another language,
 * and pagination. A link carries the page's path and only the parameters the page itself reads, never
 * the rest of the request's query string: a page that echoed the query would grow with every junk
 * parameter an anonymous visitor adds (issue 10, finding 1: a 16 KB query made a 230 KB page).
 */
import type { Request } from "express";
import type { Lang } from "./i18n";

/** A parameter value longer than this is not a value any page reads: it is dropped from links. */
export const MAX_LINK_PARAM_LENGTH = 128;

export type LinkParams = Record<string, string | number | null | undefined>;

/** `path?name=value&…` with the given parameters (null, undefined and empty ones left out). */
export function pageHref(path: string, params: LinkParams = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    query.set(name, String(value));
  }
  const search = query.toString();
  return search === "" ? path : `${path}?${search}`;
}

/** The page at `path` in each language: `params` plus `lang`. */
export function languageLinks(path: string, params: LinkParams = {}): (lang: Lang) => string {
  return (lang) => pageHref(path, { ...params, lang });
}

/**
 * The language links of the page answering `req`: its path (as requested, without the query) and,
 * of its query, only the parameters named in `known` that hold one short string each.
 *
 * The one helper for every page; e.g. the audit pages: `hrefFor(req, ["from", "to", "offset"])`.
 */
export function hrefFor(req: Request, known: readonly string[] = []): (lang: Lang) => string {
  // originalUrl, not req.path: under app.use(mount) req.path has lost the mount point.
  const path = req.originalUrl.split("?")[0];
  const params: LinkParams = {};
  const query = (req.query ?? {}) as Record<string, unknown>;
  for (const name of known) {
    const value = query[name];
    if (typeof value === "string" && value.length <= MAX_LINK_PARAM_LENGTH) params[name] = value;
  }
  return languageLinks(path, params);
}
