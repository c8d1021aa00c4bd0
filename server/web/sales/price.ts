/**
 * A price as people write it in French and Arabic (and English), into the currency's smallest unit:
 * "1.000,50", "1000,50", "1 000,50", "1000.50" and "1,000.50" are all a thousand and a half; Arabic-Indic
 * digits and the Arabic decimal and thousands signs (٫ ٬) count too. The decimal sign is the last of a
 * point and a comma when both are written, else a lone one; a sign repeated groups thousands. What
 * cannot be read one way only ("1.000": a thousand, or one?) is `ambiguous`, to be asked again.
 */
export type PriceText =
  | { ok: true; raw: bigint }
  | { ok: false; problem: "bad" | "ambiguous" }
  | { ok: false; problem: "decimals"; decimals: number };

const SPACES = /[\s\u00a0\u202f\u2009\u066c']/g;

function westernDigits(text: string): string {
  return text
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/\u066b/g, ",");
}

/** Whole part with its thousands marks (`group`, or spaces): "1 000", "1.000.000"; digits only once read. */
function wholeOf(text: string, group: string | null): string | null {
  const parts = text.split(new RegExp(`[ ${group === null ? "" : `\\${group}`}]`));
  if (parts.length === 1) return /^[0-9]+$/.test(text) ? text : null;
  if (!/^[0-9]{1,3}$/.test(parts[0]) || parts.slice(1).some((p) => !/^[0-9]{3}$/.test(p))) return null;
  return parts.join("");
}

export function parsePrice(input: string | undefined, decimals: number): PriceText {
  const text = westernDigits(input ?? "")
    .trim()
    .replace(SPACES, " ")
    .replace(/ +/g, " ");
  if (!/^[0-9][0-9 .,]*$/.test(text) || /[ .,]$/.test(text)) return { ok: false, problem: "bad" };
  const dots = text.split(".").length - 1;
  const commas = text.split(",").length - 1;
  let decimal: string | null = null;
  let group: string | null = null;
  if (dots > 0 && commas > 0) {
    decimal = text.lastIndexOf(".") > text.lastIndexOf(",") ? "." : ",";
    group = decimal === "." ? "," : ".";
    if (text.split(decimal).length > 2) return { ok: false, problem: "bad" };
  } else if (dots + commas === 1) {
    decimal = dots === 1 ? "." : ",";
    const [whole, fraction] = text.split(decimal);
    // "1.000" or "2,500": thousands in one language, a fraction in another; "0,500" and "1 000.500" are not.
    if (fraction.length === 3 && !whole.includes(" ") && !/^0+$/.test(whole) && decimals < 3)
      return { ok: false, problem: "ambiguous" };
  } else if (dots + commas > 1) group = dots > 0 ? "." : ",";

  const [wholeText, fraction = ""] = decimal === null ? [text] : text.split(decimal);
  const whole = wholeOf(wholeText, group);
  if (whole === null || (decimal !== null && !/^[0-9]+$/.test(fraction))) return { ok: false, problem: "bad" };
  if (fraction.length > decimals) return { ok: false, problem: "decimals", decimals };
  const raw = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  return raw === 0n ? { ok: false, problem: "bad" } : { ok: true, raw };
}
