/**
 * Product names for labels, from the pages' catalogs (one list of names for pages and labels). The
 * service layer may not import the pages; this module, beside the PDF that prints them, may.
 */
import { CATALOGS, productName, type Lang } from "../pages/i18n";

/** The product's name in `lang` (the code itself for a product the catalogs do not name). */
export function productNameIn(lang: Lang, productCode: string): string {
  return productName(CATALOGS[lang], productCode);
}
