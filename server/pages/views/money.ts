/**
 * Amounts people read, on every page that shows one: in the sale's currency for the reader's locale
 * (Formatter.money), isolated so that a Latin figure keeps its order inside an Arabic sentence; an
 * amount in another currency than the dirham also shows its dirham equivalent at the latest reference
 * rate, with that rate, its source and its date next to it. Never the token's smallest unit.
 */
import { formatterFor, type MoneyToken } from "../format";
import { html, type Html } from "../html";
import type { Catalog } from "../i18n";

/** A reference rate as the pages show it (server/index/payoutQueries.ts ReferenceRate). */
export interface RateView {
  /** Dirhams per unit of the currency × 10⁶. */
  rateE6: string;
  /** Unix seconds of the rate's date. */
  asOf: string;
  source: string;
}

/** The latest reference rate of a currency, or null when none is recorded. */
export type RateLookup = (currency: string) => RateView | null;

export const NO_RATES: RateLookup = () => null;

/** U+2068…U+2069: a value set apart inside a catalog sentence (the Unicode twin of <bdi>). */
export const isolate = (s: string): string => `\u2068${s}\u2069`;

/** True for a currency whose amounts also show a dirham equivalent: any but the dirham (and ether). */
export function convertible<T extends { currency?: string | null }>(token: T): token is T & { currency: string } {
  return typeof token.currency === "string" && token.currency !== "MAD" && token.currency !== "ETH";
}

/** Money in a currency reads in the page's direction (Intl marks Arabic's); ether and symbols stay left to right. */
function direction(c: Catalog, token: MoneyToken): "ltr" | "rtl" {
  return token.currency && token.currency !== "ETH" ? c.dir : "ltr";
}

/** The amount alone, as text: "1.250,00 MAD", "0.12 ETH", the raw integer and symbol of an unknown token. */
export function moneyText(c: Catalog, raw: string | bigint, token: MoneyToken | null | undefined, symbol = ""): string {
  if (token === null || token === undefined) return `${String(raw)} ${symbol}`.trim();
  return formatterFor(c).money(raw, token);
}

/** The amount, isolated: <bdi class="money">1.250,00 MAD</bdi>. */
export function money(c: Catalog, raw: string | bigint, token: MoneyToken): Html {
  return html`<bdi class="money" dir="${direction(c, token)}">${moneyText(c, raw, token)}</bdi>`;
}

/** The unit of a currency as Intl writes it for the locale ("€", "US$"), its code when Intl has no symbol. */
function unitOf(c: Catalog, currency: string): string {
  try {
    const parts = new Intl.NumberFormat(c.locale, { style: "currency", currency }).formatToParts(1);
    return parts.find((p) => p.type === "currency")?.value ?? currency;
  } catch {
    return currency;
  }
}

/** "at 10.85 MAD per €, Bank Al-Maghrib, 3 December 2026": the rate, where it comes from, its date. */
export function rateText(c: Catalog, currency: string, rate: RateView): string {
  const f = formatterFor(c);
  return c.money.at(
    isolate(f.amount(rate.rateE6, 6)),
    isolate(unitOf(c, currency)),
    isolate(rate.source),
    f.date(Number(rate.asOf)),
  );
}

/** "≈ 9.765,00 MAD", or "" when the amount needs none or no rate is recorded. */
export function dirhamsText(c: Catalog, raw: string | bigint, token: MoneyToken, rates: RateLookup): string {
  if (!convertible(token)) return "";
  const rate = rates(token.currency);
  if (rate === null) return "";
  return c.money.about(isolate(formatterFor(c).dirhams(raw, token, rate.rateE6)));
}

/**
 * One amount with everything next to it: "900,00 € (≈ 9.765,00 MAD at 10.85 MAD per €, Bank
 * Al-Maghrib, 3 December 2026)"; without a recorded rate, the amount and "no reference rate".
 */
export function moneyWithRate(c: Catalog, raw: string | bigint, token: MoneyToken, rates: RateLookup): Html {
  return html`${money(c, raw, token)} ${equivalent(c, raw, token, rates)}`;
}

/** What follows an amount in another currency: "(≈ 9.765,00 MAD at …)", or that no rate is recorded. */
export function equivalent(c: Catalog, raw: string | bigint, token: MoneyToken, rates: RateLookup): Html | "" {
  if (!convertible(token)) return "";
  const rate = rates(token.currency);
  if (rate === null) return html`<span class="note equivalent">(${c.money.noRate(token.currency)})</span>`;
  const about = c.money.about(isolate(formatterFor(c).dirhams(raw, token, rate.rateE6)));
  return html`<span class="note equivalent">(${about} ${rateText(c, token.currency, rate)})</span>`;
}

/** The amount, and its dirham equivalent on a line of its own (a table's cell); the rate goes in rateNote. */
export function moneyCell(c: Catalog, raw: string | bigint, token: MoneyToken, rates: RateLookup): Html {
  const about = dirhamsText(c, raw, token, rates);
  return html`${money(c, raw, token)}${about ? html`<br /><span class="note equivalent">${about}</span>` : ""}`;
}

/** Under a table of amounts in another currency: the rate its dirham equivalents use, or that there is none. */
export function rateNote(c: Catalog, token: MoneyToken, rates: RateLookup): Html | "" {
  if (!convertible(token)) return "";
  const rate = rates(token.currency);
  return html`<p class="note rate">
    ${rate === null ? c.money.noRate(token.currency) : c.money.equivalents(rateText(c, token.currency, rate))}
  </p>`;
}

/** A currency as a label next to a figure ("Gross (MAD)"): its ISO code, else the token's symbol. */
export function currencyLabel(token: { symbol: string; currency?: string | null }): string {
  return token.currency ?? token.symbol;
}
