/**
 * Numbers, amounts and dates for a language. Amounts are exact: the integer from the chain divided by
 * 10^decimals with every significant digit kept (never rounded through a float). Dates are shown in
 * Morocco's time zone, where the events take place.
 */
import type { Catalog } from "./i18n";
import { dirhamCentimes, formatMoney, MAD } from "../../domain/money";

export const TIME_ZONE = "Africa/Casablanca";

export interface Formatter {
  integer(value: string | number | bigint): string;
  /** `raw` in the token's smallest unit, shown with `decimals` places (trailing zeros dropped). */
  amount(raw: string | bigint, decimals: number): string;
  /**
   * An amount of a token as money people read: in its currency for the reader's locale when the
   * escrow recorded one ("1.250,00 MAD", "1 250,00 €"), else the exact amount and the token's symbol.
   */
  money(raw: string | bigint, token: MoneyToken): string;
  /** The dirham equivalent of an amount of another currency at a rate (dirhams per unit × 10⁶). */
  dirhams(raw: string | bigint, token: MoneyToken, rateE6: string | bigint): string;
  /** Basis points as a percentage. */
  percent(bps: number): string;
  /** "100 Moroccan dirhams", "100 euros": a hundred of a currency in words, for "of each 100 … paid". */
  hundred(currency: string): string;
  /** Unix seconds → a date. */
  date(seconds: number): string;
  /** Unix seconds → a date and time. */
  dateTime(seconds: number): string;
}

/** What formatting money needs of a token (server/pages/tokens.ts TokenInfo). */
export interface MoneyToken {
  symbol: string;
  decimals: number;
  currency?: string | null;
}

const cache = new Map<string, Formatter>();

export function formatterFor(c: Catalog): Formatter {
  let f = cache.get(c.locale);
  if (f === undefined) {
    f = createFormatter(c.locale);
    cache.set(c.locale, f);
  }
  return f;
}

/**
 * Thousands are grouped with a narrow no-break space in every language (as SI and ISO 80000 write them):
 * Morocco's French and Arabic group with a point, so "100.000 ml" read as a hundred millilitres to a
 * buyer in Lyon, and a comma misleads others. A space cannot be read as a decimal sign, nor broken.
 */
function groupedWithSpace(format: Intl.NumberFormat): (value: number | bigint) => string {
  return (value) =>
    format
      .formatToParts(value)
      .map((part) => (part.type === "group" ? "\u202f" : part.value))
      .join("");
}

function createFormatter(locale: string): Formatter {
  const int = new Intl.NumberFormat(locale, { maximumFractionDigits: 0, numberingSystem: "latn" });
  const grouped = groupedWithSpace(int);
  const pct = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 2, numberingSystem: "latn" });
  const decimalSeparator =
    int.formatToParts(1.5).find((p) => p.type === "decimal")?.value ??
    new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value ??
    ".";
  const day = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: TIME_ZONE, numberingSystem: "latn" });
  const dayTime = new Intl.DateTimeFormat(locale, {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: TIME_ZONE,
    numberingSystem: "latn",
  });
  function amount(raw: string | bigint, decimals: number): string {
    const value = BigInt(raw);
    const negative = value < 0n;
    const abs = negative ? -value : value;
    const base = 10n ** BigInt(decimals);
    const whole = abs / base;
    const fraction = decimals === 0 ? "" : (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
    const text = grouped(whole) + (fraction === "" ? "" : decimalSeparator + fraction);
    return negative ? `-${text}` : text;
  }
  return {
    integer: (value) => grouped(BigInt(value)),
    amount,
    money(raw, token) {
      // Ether keeps its symbol after the exact amount, as before ("0.12 ETH"): it is not money members read.
      if (token.currency && token.currency !== "ETH")
        return formatMoney(BigInt(raw), { code: token.currency, decimals: token.decimals }, locale);
      return `${amount(raw, token.decimals)} ${token.symbol}`;
    },
    dirhams: (raw, token, rateE6) =>
      formatMoney(dirhamCentimes(BigInt(raw), token.decimals, BigInt(rateE6)), MAD, locale),
    percent: (bps) => pct.format(bps / 10_000),
    hundred: (currency) =>
      new Intl.NumberFormat(locale, {
        style: "currency",
        currency,
        currencyDisplay: "name",
        maximumFractionDigits: 0,
        minimumFractionDigits: 0,
        numberingSystem: "latn",
      }).format(100),
    date: (seconds) => day.format(new Date(seconds * 1000)),
    dateTime: (seconds) => dayTime.format(new Date(seconds * 1000)),
  };
}
