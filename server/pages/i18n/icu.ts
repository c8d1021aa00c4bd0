/**
 * Counted messages: ICU MessageFormat (intl-messageformat) with each language's CLDR plural rules, so
 * "1 membre / 2 membres" and Arabic's six forms (zero, one, two, few, many, other) are written out, not
 * dodged. A catalog writes `counted(locale, "{n, plural, one {# member} other {# members}}")`; the page
 * calls the result with the number. `#` is formatted by Intl for the locale.
 */
import { IntlMessageFormat } from "intl-messageformat";

export type Counted = (n: number) => string;

/**
 * The plural rules of Standard Moroccan Tamazight: CLDR has none under `zgh` (Intl falls back to
 * English's), so the rules of Central Atlas Tamazight (`tzm`), on which the standard is based, apply.
 */
export const ZGH_PLURAL_LOCALE = "tzm";

export function counted(locale: string, pattern: string): Counted {
  const message = new IntlMessageFormat(pattern, locale, undefined, { ignoreTag: true });
  // A broken pattern fails when the catalog loads (at start-up and in every test), not on a reader's page.
  message.format({ n: 1 });
  return (n) => String(message.format({ n }));
}

/** A counted message with a second number, `{total}` (formatted by the message, `{total, number}`). */
export type CountedOf = (n: number, total: number) => string;

export function countedOf(locale: string, pattern: string): CountedOf {
  const message = new IntlMessageFormat(pattern, locale, undefined, { ignoreTag: true });
  message.format({ n: 1, total: 2 });
  return (n, total) => String(message.format({ n, total }));
}
