/**
 * Counted messages: ICU MessageFormat (intl-messageformat) with each language's CLDR plural rules, so
 * "1 membre / 2 membres" and Arabic's six forms (zero, one, two, few, many, other) are written out, not
 * dodged. A catalog writes `counted(locale, "{n, plural, one {# member} other {# members}}")`; the page
 * calls the result with the number. `#` is formatted by Intl for the locale.
 */
import { IntlMessageFormat } from "intl-messageformat";

/** The parsed pattern (the type of intl-messageformat's own parser, which it does not re-export). */
export type MessageAst = ReturnType<IntlMessageFormat["getAst"]>;

/**
 * A counted message: called with the number. It keeps its pattern's parsed form and locale so that a
 * test can check every plural form the locale's rules need is written (test/unit/i18n-plurals.test.ts).
 */
export interface Counted {
  /** `values` fills the pattern's other arguments (already formatted), e.g. `{members}`. */
  (n: number, values?: Readonly<Record<string, string>>): string;
  readonly locale: string;
  readonly ast: MessageAst;
}

/**
 * The plural rules of Standard Moroccan Tamazight: CLDR has none under `zgh` (Intl falls back to
 * English's), so the rules of Central Atlas Tamazight (`tzm`), on which the standard is based, apply.
 */
export const ZGH_PLURAL_LOCALE = "tzm";

export function counted(locale: string, pattern: string): Counted {
  const message = new IntlMessageFormat(pattern, locale, undefined, { ignoreTag: true });
  const ast = message.getAst();
  // A broken pattern fails when the catalog loads (at start-up and in every test), not on a reader's page.
  message.format({ ...Object.fromEntries(argumentNames(ast).map((name) => [name, name])), n: 1 });
  return Object.assign(
    (n: number, values?: Readonly<Record<string, string>>) => String(message.format({ ...values, n })),
    { locale, ast },
  );
}

export function isCounted(value: unknown): value is Counted {
  return typeof value === "function" && "ast" in value && "locale" in value;
}

/** The names of a pattern's arguments (`n` and any other `{name}`), at any depth of its plural forms. */
export function argumentNames(ast: MessageAst): string[] {
  const names = new Set<string>();
  const walk = (elements: MessageAst): void => {
    for (const el of elements) {
      if ("value" in el && typeof el.value === "string" && el.type !== 0) names.add(el.value);
      if ("options" in el) for (const option of Object.values(el.options)) walk(option.value);
    }
  };
  walk(ast);
  return [...names];
}
