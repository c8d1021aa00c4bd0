/**
 * Text rules, once. Text is stored exactly as sent; what is refused is text that can read differently
 * from what is stored ("Trojan Source": controls and bidirectional overrides/isolates) or that is not
 * valid Unicode (lone surrogates). Printing (labels) strips a wider set of invisible characters.
 */

/** C0/C1 controls (tab, LF and CR allowed), DEL, and the bidi embeddings/overrides/isolates. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** Every control character (tab and line breaks included): for one-line names. */
const FORBIDDEN_IN_NAME = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

// With the u flag, \p{Cs} matches only unpaired surrogates: text that is not valid Unicode.
const LONE_SURROGATE = /\p{Cs}/u;

/** Controls and bidi formatting characters, removed before printing (they could disguise a label). */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
// eslint-disable-next-line no-control-regex
const SPACES = /[\s\u0009-\u000D]+/g;

/** Free text (descriptions, places): no controls but tab and line breaks, no bidi overrides, valid Unicode. */
export function isSafeText(s: string): boolean {
  return !FORBIDDEN.test(s) && !LONE_SURROGATE.test(s);
}

/** A one-line name (people, cooperatives): no control character at all, no bidi overrides, valid Unicode. */
export function isSafeName(s: string): boolean {
  return !FORBIDDEN_IN_NAME.test(s) && !LONE_SURROGATE.test(s);
}

/** Lone surrogates become U+FFFD. */
export function wellFormedText(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** One line of printable text: NFC, no controls or bidi characters, no lone surrogates, single spaces. */
export function printableLine(text: unknown): string {
  const s = typeof text === "string" ? text : text === undefined || text === null ? "" : String(text);
  return wellFormedText(s).normalize("NFC").replace(INVISIBLE, "").replace(SPACES, " ").trim();
}
