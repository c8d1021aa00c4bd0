/**
 * GS1 identifiers on labels: the GTIN-14 of a product and the GS1 Digital Link URI of a batch
 * (`<PUBLIC_URL>/01/<GTIN-14>/10/<lot>`), or `<PUBLIC_URL>/b/<batchId>` when the product has no GTIN.
 */

/** GS1 mod-10 check digit over the first 13 digits of a GTIN-14. */
function checkDigit(first13: string): number {
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
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
  if (checkDigit(padded.slice(0, 13)) !== Number(padded[13])) {
    throw new RangeError(`GTIN ${padded} has an invalid check digit (expected ${checkDigit(padded.slice(0, 13))})`);
  }
  return padded;
}

/** True when `gtin14` would accept it. */
export function isGtin(gtin: string | bigint): boolean {
  try {
    gtin14(gtin);
    return true;
  } catch {
    return false;
  }
}

/**
 * Percent-encodes an AI value for a Digital Link path: every character outside the RFC 3986
 * "unreserved" set (A–Z a–z 0–9 - . _ ~) becomes %XX of its UTF-8 bytes, upper-case hex, as the
 * GS1 Digital Link standard requires (so `/`, `%`, `!`, `'`, `(`, `)`, `*`, spaces and Arabic are all encoded).
 */
export function encodeDigitalLinkValue(value: string): string {
  return encodeURIComponent(wellFormed(value)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Lone surrogates (which encodeURIComponent refuses) become U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** AI (10) batch/lot: at most 20 characters. */
export const MAX_LOT_LENGTH = 20;

export function batchPublicUrl(publicUrl: string, batch: { batchId: string; gtin: string; lotCode: string }): string {
  const base = publicUrl.replace(/\/+$/, "");
  const lot = batch.lotCode;
  if (batch.gtin !== "0" && isGtin(batch.gtin) && lot.length > 0 && [...lot].length <= MAX_LOT_LENGTH) {
    return `${base}/01/${gtin14(batch.gtin)}/10/${encodeDigitalLinkValue(lot)}`;
  }
  return `${base}/b/${batch.batchId.toLowerCase()}`;
}
