/**
 * The four languages of the public pages and how one is chosen: `?lang=` first (links on the page
 * set it, so a choice survives sharing the URL), then Accept-Language, then English.
 */
import { ar } from "./ar";
import { en } from "./en";
import { fr } from "./fr";
import { zgh } from "./zgh";
import type { Catalog, Lang } from "./types";

export type { Catalog, Lang };

export const LANGS: readonly Lang[] = ["ar", "zgh", "fr", "en"];
export const CATALOGS: Record<Lang, Catalog> = { ar, zgh, fr, en };
export const DEFAULT_LANG: Lang = "en";

/** Language subtags that mean one of ours. Tamazight varieties (Central Atlas, Tachelhit, Tarifit) read the Tifinagh page. */
const ALIASES: Record<string, Lang> = {
  ar: "ar",
  ary: "ar",
  zgh: "zgh",
  tzm: "zgh",
  shi: "zgh",
  rif: "zgh",
  ber: "zgh",
  fr: "fr",
  en: "en",
};

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && (LANGS as readonly string[]).includes(value);
}

/** Parses an Accept-Language header and returns the best language we have, or undefined. */
export function fromAcceptLanguage(header: string | undefined): Lang | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(",")
    .slice(0, 20)
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { tag: tag.trim().toLowerCase(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((r) => r.tag !== "" && r.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const r of ranked) {
    const lang = ALIASES[r.tag.split("-")[0]];
    if (lang !== undefined) return lang;
  }
  return undefined;
}

export function chooseLang(query: unknown, acceptLanguage: string | undefined): Lang {
  if (isLang(query)) return query;
  return fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LANG;
}

/**
 * A business step as recorded (a CBV name, a CBV URI such as `https://ref.gs1.org/cbv/BizStep-packing`
 * or `urn:epcglobal:cbv:bizstep:packing`, or a URI of our vocabulary ending in `/bizstep/<name>`)
 * reduced to its bare name.
 */
export function stepKey(bizStep: string): string {
  const tail = bizStep.split(/[/:#]/).pop() ?? bizStep;
  return tail.replace(/^BizStep-/i, "").toLowerCase();
}

export function stepName(c: Catalog, bizStep: string): string {
  const key = stepKey(bizStep);
  return c.journey.steps[key] ?? en.journey.steps[key] ?? bizStep;
}

export function productName(c: Catalog, productCode: string): string {
  return c.products[productCode] ?? en.products[productCode] ?? productCode;
}

export function unitName(c: Catalog, unit: string): string {
  return c.units[unit] ?? unit;
}
