/**
 * The words a label prints, from the pages' catalogs (server/pages/i18n): the product's name, the unit,
 * "scan to verify" and the date in each language. One source for the names, so a product renamed in a
 * catalog is renamed on its next labels too; the catalogs are data, without Express.
 */
import { CATALOGS, productName, unitName, type Lang } from "../pages/i18n";
import { formatterFor, quantity } from "../pages/format";

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
  /** A pack's content with its unit ("250 ml", "0,5 kg", "1 pièce": pieces counted with their plural). */
  pack(scaled: bigint, decimals: number, unit: string): string;
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
    pack: (scaled, decimals, unit) =>
      // Whole pieces are counted ("1 pièce", "6 pièces"); any other unit follows the number.
      scaled % 10n ** BigInt(decimals) === 0n && ["piece", "pieces"].includes(unit.toLowerCase())
        ? quantity(c, scaled / 10n ** BigInt(decimals), unit)
        : `${f.amount(scaled, decimals)} ${unitName(c, unit)}`,
  };
}
