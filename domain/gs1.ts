/**
 * GS1 rules, once: the GTIN check digit, the lot (AI 10) character set, and the Digital Link path
 * `/01/<GTIN-14>/10/<lot>`. The API's validation, the pages, the labels, EPCIS and the verifier all
 * use these functions, so they accept and produce the same identifiers.
 */
import { wellFormedText } from "./text";

/** GS1 mod-10 check digit over the first 13 digits of a GTIN-14. */
export function gs1CheckDigit(first13: string): number {
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

/**
 * A GTIN as people and scanners write it: 8, 12, 13 or 14 digits with a valid check digit. This is
 * what the API accepts and what a Digital Link path may carry.
 */
export function isValidGtin(gtin: string): boolean {
  if (!/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(gtin)) return false;
  const padded = gtin.padStart(14, "0");
  return gs1CheckDigit(padded.slice(0, 13)) === Number(padded[13]);
}

/**
 * The GTIN padded to 14 digits. The index stores GTINs as integers, so a GTIN-12 or GTIN-8 loses its
 * leading zeros: any 1–14 digit number is accepted, padded, and must carry a valid GS1 check digit.
 * Throws on anything else (including 0, which means "no GTIN").
 */
export function gtin14(gtin: string | bigint): string {
  const digits = typeof gtin === "bigint" ? gtin.toString() : String(gtin);
  if (!/^[0-9]{1,14}$/.test(digits)) throw new RangeError(`not a GTIN: ${JSON.stringify(String(gtin).slice(0, 40))}`);
  const padded = digits.padStart(14, "0");
  if (/^0+$/.test(padded)) throw new RangeError("GTIN 0 means the product has none");
  const expected = gs1CheckDigit(padded.slice(0, 13));
  if (expected !== Number(padded[13])) {
    throw new RangeError(`GTIN ${padded} has an invalid check digit (expected ${expected})`);
  }
  return padded;
}

/** True when `gtin14` would accept it (a stored GTIN, leading zeros possibly dropped). */
export function isGtin(gtin: string | bigint): boolean {
  try {
    gtin14(gtin);
    return true;
  } catch {
    return false;
  }
}

/** AI (10) batch/lot: at most 20 characters. */
export const MAX_LOT_LENGTH = 20;

/** AI (10): 1 to 20 characters of the GS1 AI encodable character set 82 (what the API accepts for lot codes). */
export const LOT_PATTERN = /^[\x21-\x22\x25-\x2F\x30-\x39\x3A-\x3F\x41-\x5A\x5F\x61-\x7A]{1,20}$/;

/**
 * Percent-encodes an AI value for a Digital Link path: every character outside the RFC 3986
 * "unreserved" set (A–Z a–z 0–9 - . _ ~) becomes %XX of its UTF-8 bytes, upper-case hex, as the
 * GS1 Digital Link standard requires (so `/`, `%`, `!`, `'`, `(`, `)`, `*`, spaces and Arabic are all encoded).
 */
export function encodeDigitalLinkValue(value: string): string {
  return encodeURIComponent(wellFormedText(value)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The Digital Link path of a batch, `/01/<GTIN-14>/10/<lot>`, or null when the product has no valid
 * GTIN (0 or a bad check digit) or the lot cannot be an AI (10) value.
 */
export function digitalLinkPath(gtin: string | bigint, lotCode: string): string | null {
  if (!isGtin(gtin) || lotCode.length === 0 || [...lotCode].length > MAX_LOT_LENGTH) return null;
  return `/01/${gtin14(gtin)}/10/${encodeDigitalLinkValue(lotCode)}`;
}

/** The public URL printed on a batch's label: its Digital Link when it has one, else `/b/<batchId>`. */
export function batchPublicUrl(publicUrl: string, batch: { batchId: string; gtin: string; lotCode: string }): string {
  const base = publicUrl.replace(/\/+$/, "");
  return base + (digitalLinkPath(batch.gtin, batch.lotCode) ?? `/b/${batch.batchId.toLowerCase()}`);
}
