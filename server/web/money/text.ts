/** What the money pages of the manager and the member share: dirhams as money, names, links in the reader's language. */
import { html, type Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";

const MAD_TOKEN = { symbol: "MAD", decimals: 2, currency: "MAD" } as const;

/** Centimes as dirhams for the reader's locale ("445,00 MAD"). */
export const dirhamsText = (c: Catalog, centimes: bigint | string): string =>
  formatterFor(c).money(centimes, MAD_TOKEN);

/** The same, kept left to right inside a line that may run right to left. */
export const dirhamsHtml = (c: Catalog, centimes: bigint | string): Html =>
  html`<bdi dir="ltr" class="amount">${dirhamsText(c, centimes)}</bdi>`;

export const nameOf = (c: Catalog, name: string | null): string => name ?? c.workspace.unnamed;

export const q = (c: Catalog, path: string): string => `${path}?lang=${c.lang}`;

/** An amount inside a sentence, isolated left to right (LRI … PDI) for a sentence that may run right to left. */
export const ltr = (s: string): string => `\u2066${s}\u2069`;

/** Centimes as a form writes them back ("445.00"): what the schema reads. */
export function centimesDecimal(centimes: bigint): string {
  const abs = centimes < 0n ? -centimes : centimes;
  return `${centimes < 0n ? "-" : ""}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** An amount as people type it in dirhams: spaces dropped, a decimal comma read as the point ("1 250,5" → "1250.5"). */
export function typedDirhams(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.replace(/[\s\u00a0\u202f]/g, "");
  return /^[0-9]+,[0-9]{1,2}$/.test(t) ? t.replace(",", ".") : t;
}
