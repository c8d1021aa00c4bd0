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

const PIECES = new Set(["piece", "pieces"]);

/**
 * A quantity with its unit in the reader's language: "70 000 ml", and pieces counted with the language's
 * plural ("1 pièce", "3 pièces"; never "1 pieces"). The plural is chosen on the exact count, or on its
 * last fifteen digits past what a float holds (the rules look at the last digits only).
 */
export function quantity(c: Catalog, value: string | number | bigint, unit: string): string {
  const n = BigInt(value);
  const text = formatterFor(c).integer(n);
  if (!PIECES.has(unit.toLowerCase())) return `${text} ${c.units[unit] ?? unit}`;
  const count = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : Number(n % 10n ** 15n);
  return c.pieces(count, { q: text });
}

const WALL_CLOCK = new Intl.DateTimeFormat("en-US", {
  timeZone: TIME_ZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** Morocco's offset from UTC at instant `ms`, in ms: one hour, none during Ramadan (the tz database's rules). */
function moroccoOffsetMs(ms: number): number {
  const parts = WALL_CLOCK.formatToParts(new Date(ms));
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - (ms - (ms % 1000));
}

/** The time on a clock in Morocco at `ms`, as an `<input type="datetime-local">` holds it ("2026-12-04T21:30"). */
export function moroccoWallClock(ms: number = Date.now()): string {
  return new Date(ms + moroccoOffsetMs(ms)).toISOString().slice(0, 16);
}

/**
 * A time read on a clock in Morocco ("2026-12-04T21:30", what a datetime-local field sends: no offset) as
 * an ISO instant ("2026-12-04T20:30:00.000Z"); null when it is not such a time. A manager types the time
 * on his own clock; taking it as UTC put every step an hour late, and a step recorded "now" in the future.
 */
export function fromMoroccoWallClock(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local)) return null;
  const wall = Date.parse(`${local}:00Z`);
  if (Number.isNaN(wall)) return null;
  // The offset at the guess, then at the instant it gives (they differ only across a change of offset).
  const first = wall - moroccoOffsetMs(wall);
  return new Date(wall - moroccoOffsetMs(first)).toISOString();
}
