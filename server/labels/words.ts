/**
 * The words a label prints, from the pages' catalogs (server/pages/i18n): the product's name, the unit,
 * "scan to verify" and the date in each language. One source for the names, so a product renamed in a
 * catalog is renamed on its next labels too; the catalogs are data, without Express.
 */
import { CATALOGS, productName, unitName, type Lang } from "../pages/i18n";
import { formatterFor } from "../pages/format";

export const LABEL_LANGS = ["ar", "zgh", "fr", "en"] as const satisfies readonly Lang[];
export type LabelLang = Lang;

export interface LabelWords {
  productName(code: string): string;
  unitName(unit: string): string;
  scanToVerify: string;
  /** A production date (unix seconds), in words. */
  date(seconds: number): string;
  /** A decimal quantity as this language writes it ("100 000", "0,25"). */
  number(scaled: bigint, decimals: number): string;
}

export function labelWords(lang: Lang): LabelWords {
  const c = CATALOGS[lang];
  const f = formatterFor(c);
  return {
    productName: (code) => productName(c, code),
    unitName: (unit) => unitName(c, unit),
    scanToVerify: c.labelPrint.scanToVerify,
    date: (seconds) => f.date(seconds),
    number: (scaled, decimals) => f.amount(scaled, decimals),
  };
}
