/**
 * Money people read: an exact integer amount of a settlement token, shown in its currency for the
 * reader's locale by Intl ("1.250,00 MAD" in fr-MA, "1.250,00 د.م." in ar-MA, "MAD 1,250.00" in
 * English, "1 250,00 €" in fr-FR), and the dirham equivalent of an amount in another currency at a
 * recorded rate. The integer is never passed through a float: Intl formats the decimal string.
 */

export interface Currency {
  /** ISO 4217 code ("MAD", "EUR"); "ETH" for ether. */
  code: string;
  /** Decimals of the token's smallest unit (2 for a dirham or euro token, 18 for ether). */
  decimals: number;
}

/** How many fraction digits a person reads: two for money, up to six for ether. */
function fractionDigits(currency: Currency): { min: number; max: number } {
  if (currency.code === "ETH") return { min: 0, max: Math.min(6, currency.decimals) };
  return { min: Math.min(2, currency.decimals), max: Math.min(2, currency.decimals) };
}

/** `raw` (smallest units) as an exact decimal string with `decimals` places, e.g. 125000n, 2 → "1250.00". */
export function toDecimalString(raw: bigint, decimals: number): string {
  const negative = raw < 0n;
  const abs = negative ? -raw : raw;
  const base = 10n ** BigInt(decimals);
  const whole = (abs / base).toString();
  const fraction = decimals === 0 ? "" : "." + (abs % base).toString().padStart(decimals, "0");
  return (negative ? "-" : "") + whole + fraction;
}

const formats = new Map<string, Intl.NumberFormat>();

/**
 * The amount in the currency for `locale`, Latin digits. A dirham or euro amount shows its centimes
 * (rounded half-even by Intl only if the token has more than 2 decimals); ether up to 6 decimals.
 */
export function formatMoney(raw: bigint, currency: Currency, locale: string): string {
  const digits = fractionDigits(currency);
  const key = `${locale}|${currency.code}|${digits.min}|${digits.max}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, {
      style: "currency",
      currency: currency.code,
      currencyDisplay: "symbol",
      minimumFractionDigits: digits.min,
      maximumFractionDigits: digits.max,
      numberingSystem: "latn",
    });
    formats.set(key, format);
  }
  // A decimal string keeps every digit (Intl.NumberFormat v3): no float in between.
  return format.format(toDecimalString(raw, currency.decimals) as unknown as number);
}

/** Dirhams per unit of a currency × 10⁶, as PayoutLedger records rates. */
export const RATE_SCALE = 1_000_000n;

/**
 * The dirham equivalent, in centimes, of `raw` smallest units of a `decimals`-decimal currency at
 * `rateE6` dirhams per unit × 10⁶, rounded to the nearest centime (half up).
 */
export function dirhamCentimes(raw: bigint, decimals: number, rateE6: bigint): bigint {
  const numerator = raw * rateE6 * 100n;
  const denominator = 10n ** BigInt(decimals) * RATE_SCALE;
  return (numerator + denominator / 2n) / denominator;
}

/** The dirham currency of a 2-decimal amount in centimes. */
export const MAD: Currency = { code: "MAD", decimals: 2 };

/**
 * Parts of a whole as whole numbers out of 100 that add up to exactly 100 (largest remainder): "of each
 * 100 dirhams paid, 89 went to the members, 10 to the reserve, 1 to the platform". Each share is the
 * part's exact share rounded down, and the points left go to the parts with the largest remainders
 * (the first of equal ones), so no share is off by more than one point. All parts 0: all shares 0.
 */
export function sharesOf100(parts: readonly bigint[]): number[] {
  if (parts.some((p) => p < 0n)) throw new RangeError("parts must not be negative");
  const total = parts.reduce((a, p) => a + p, 0n);
  if (total === 0n) return parts.map(() => 0);
  const floors = parts.map((p) => (p * 100n) / total);
  const remainders = parts.map((p, i) => ({ i, r: p * 100n - floors[i] * total }));
  let left = 100n - floors.reduce((a, x) => a + x, 0n);
  remainders.sort((a, b) => (b.r > a.r ? 1 : b.r < a.r ? -1 : a.i - b.i));
  for (const { i } of remainders) {
    if (left === 0n) break;
    floors[i] += 1n;
    left -= 1n;
  }
  return floors.map(Number);
}
