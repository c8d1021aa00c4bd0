/**
 * Every message of the four catalogs, rendered: each counted message with 0, 1, 2, 3, 11 and 100 (the
 * counts that reach each of Arabic's six plural forms), each other message with stand-in values. The
 * checks: a plural form for every count the language's rules tell apart, no message that falls back to
 * another language (a missing key, English text in a French, Arabic or Tamazight catalog, a Tamazight
 * message without Tifinagh), and none of the synonyms the glossary rules out.
 */
import { expect } from "chai";
import { CATALOGS, LANGS, type Catalog, type Lang } from "../../server/pages/i18n";
import { GLOSSARY } from "../../server/pages/i18n/glossary";
import { argumentNames, isCounted, type Counted, type MessageAst } from "../../server/pages/i18n/icu";

const COUNTS = [0, 1, 2, 3, 11, 100];

/** One rendering of one message: the path of its key, and for a counted message the count. */
interface Rendered {
  path: string;
  n?: number;
  text: string;
}

/** A stand-in for a message's argument, easy to strip again and never a word of any language. */
const standIn = (i: number): string => `⟦${i}⟧`;

function render(value: unknown, path: string, out: Rendered[]): Rendered[] {
  if (typeof value === "string") out.push({ path, text: value });
  else if (isCounted(value)) {
    const others = Object.fromEntries(
      argumentNames(value.ast)
        .filter((name) => name !== "n")
        .map((name, i) => [name, standIn(i)]),
    );
    for (const n of COUNTS) out.push({ path, n, text: value(n, others) });
  } else if (typeof value === "function") {
    const args = Array.from({ length: value.length }, (_, i) => standIn(i));
    out.push({ path, text: String((value as (...a: string[]) => unknown)(...args)) });
  } else if (Array.isArray(value)) value.forEach((v, i) => render(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) render(v, path === "" ? k : `${path}.${k}`, out);
  return out;
}

function counteds(value: unknown, path: string, out: { path: string; message: Counted }[]) {
  if (isCounted(value)) out.push({ path, message: value });
  else if (value !== null && typeof value === "object" && !Array.isArray(value))
    for (const [k, v] of Object.entries(value)) counteds(v, path === "" ? k : `${path}.${k}`, out);
  return out;
}

/** The plural elements of a pattern, with the forms each one writes (`one`, `=0`, …). */
function pluralForms(ast: MessageAst): string[][] {
  const found: string[][] = [];
  const walk = (elements: MessageAst): void => {
    for (const el of elements) {
      if ("pluralType" in el && "options" in el) found.push(Object.keys(el.options));
      if ("options" in el) for (const option of Object.values(el.options)) walk(option.value);
    }
  };
  walk(ast);
  return found;
}

/** The plural rules each language's counted messages must use (Tamazight: Central Atlas, see icu.ts). */
const PLURAL_LANGUAGE: Record<Lang, string> = { en: "en", fr: "fr", ar: "ar", zgh: "tzm" };

/**
 * Messages that are rightly the same as in English, each with its reason. Anything else equal to the
 * English text is a fallback.
 */
const SAME_AS_ENGLISH: Record<string, string> = {
  "*:dir": "a direction, not words",
  "*:lang": "a language code",
  "*:locale": "a language tag",
  "*:sales.dirhamEquivalent": "only the amounts, the rate and the currency code",
  "fr:workspace.batchCount": "the same word in French",
  "*:site.name": "the brand name",
  "*:payouts.by.mwallet": "a brand name (the operators' product)",
  "fr:units.g": "SI symbol, the same in French",
  "fr:units.kg": "SI symbol, the same in French",
  "fr:units.ml": "SI symbol, the same in French",
  "fr:units.l": "SI symbol, the same in French",
  "zgh:units.g": "SI symbol: Moroccan labels write units in Latin letters in every script",
  "zgh:units.kg": "SI symbol: Moroccan labels write units in Latin letters in every script",
  "zgh:units.ml": "SI symbol: Moroccan labels write units in Latin letters in every script",
  "zgh:units.l": "SI symbol: Moroccan labels write units in Latin letters in every script",
  "fr:batch.lot": "the same word in French",
  "fr:glossary.lot": "the same word in French",
  "fr:workspace.batchesTitle": "the same word in French",
  "fr:journey.steps.distilling": "the same word in French",
  "fr:journey.steps.certifying": "the same word in French",
  "fr:journey.steps.transporting": "the same word in French",
  "fr:roles2.scheme": "the same word in French",
  "fr:proof.tx": "the same word in French",
  "fr:audit.tx": "the same word in French",
  "fr:audit.transactions": "the same word in French",
  "fr:audit.title": "the same word in French",
  "fr:nav.audit": "the same word in French",
  "fr:audit.index": "the same word in French",
  "fr:audit.chain": "the same word in French",
  "fr:audit.logIndex": "the technical term of the blockchain logs, as auditors read it",
};

function sameAllowed(lang: Lang, path: string): boolean {
  return `*:${path}` in SAME_AS_ENGLISH || `${lang}:${path}` in SAME_AS_ENGLISH;
}

/**
 * Latin words an Arabic or Tamazight message may hold, by reason: names, codes and symbols written so in
 * every script on Moroccan packs and screens, the verifier's command-line words, and examples of what to
 * type. Any other Latin word is a piece of another language.
 */
const LATIN_ALLOWED: Record<string, string> = Object.fromEntries(
  Object.entries({
    "brand and operator names": ["CoopTrace", "M-Wallet", "M‑Wallet", "ONSSA"],
    "place names in examples": ["Casablanca", "Ouarzazate", "Boutique"],
    "codes and formats as printed": [
      "AOP",
      "IGP",
      "GTIN",
      "QR",
      "PDF",
      "JSON",
      "CSV",
      "API",
      "PIN",
      "UTC",
      "ct_",
      "x",
      "Lot",
      "KMG-RW-",
    ],
    "currency codes": ["MAD", "EUR", "ETH"],
    "SI unit symbols": ["g", "kg", "ml", "l", "L"],
    "the verifier's command line and its options": [
      "npx",
      "cooptrace",
      "verify",
      "rpc",
      "url",
      "deployment",
      "contracts",
      "hash",
      "Log",
    ],
    "the runtime the verifier needs, by its name": ["Node", "js"],
  }).flatMap(([reason, words]) => words.map((w) => [w, reason])),
);

const SCRIPT: Partial<Record<Lang, RegExp>> = { zgh: /[\u2D30-\u2D7F]/u, ar: /[\u0600-\u06FF]/u };

const strip = (text: string): string => text.replace(/⟦\d+⟧/g, "");

const key = (r: Rendered): string => `${r.path}${r.n === undefined ? "" : `#${r.n}`}`;

describe("i18n: the four catalogs", function () {
  const rendered = Object.fromEntries(LANGS.map((l) => [l, render(CATALOGS[l], "", [])])) as Record<Lang, Rendered[]>;
  const english = new Map(rendered.en.map((r) => [key(r), r.text]));

  it("render some eight hundred messages each (the walk reaches every block)", function () {
    for (const lang of LANGS) {
      expect(rendered[lang].length, lang).to.be.greaterThan(800);
      expect(
        rendered[lang].some((r) => r.path.startsWith("journey.steps.")),
        lang,
      ).to.equal(true);
    }
  });

  for (const lang of LANGS) {
    describe(lang, function () {
      it("writes the plural form each count needs, with the language's own rules", function () {
        const catalog: Catalog = CATALOGS[lang];
        const problems: string[] = [];
        const found = counteds(catalog, "", []);
        expect(found.length).to.be.greaterThan(20);
        for (const { path, message } of found) {
          const language = new Intl.Locale(message.locale).language;
          if (language !== PLURAL_LANGUAGE[lang]) problems.push(`${path}: plural rules of "${message.locale}"`);
          const rules = new Intl.PluralRules(message.locale);
          const forms = pluralForms(message.ast);
          if (forms.length === 0) problems.push(`${path}: no plural at all`);
          for (const options of forms)
            for (const n of COUNTS) {
              const category = rules.select(n);
              if (!options.includes(`=${n}`) && !options.includes(category))
                problems.push(`${path}: no "${category}" form (for ${n}); it has ${options.join(" ")}`);
            }
        }
        expect(problems, problems.join("\n")).to.deep.equal([]);
      });

      if (lang === "en") return;

      it("has every message of the English catalog and falls back to no other language", function () {
        const own = new Map(rendered[lang].map((r) => [key(r), r]));
        const problems: string[] = [];
        for (const [k, text] of english) {
          const mine = own.get(k);
          if (mine === undefined) problems.push(`${k}: missing`);
          else if (mine.text === text && /\p{L}/u.test(strip(text)) && !sameAllowed(lang, mine.path))
            problems.push(`${k}: the English text "${text}"`);
        }
        const script = SCRIPT[lang];
        if (script !== undefined)
          for (const r of rendered[lang]) {
            const text = strip(r.text);
            if (sameAllowed(lang, r.path)) continue;
            if (/\p{L}/u.test(text) && !script.test(text)) problems.push(`${key(r)}: not in its script: "${text}"`);
            for (const word of text.match(/[A-Za-z][A-Za-z_‑-]*/g) ?? [])
              if (!(word in LATIN_ALLOWED)) problems.push(`${key(r)}: Latin word "${word}" in "${text}"`);
          }
        expect(problems, problems.join("\n")).to.deep.equal([]);
      });
    });
  }

  describe("one word per concept (server/pages/i18n/glossary.ts)", function () {
    for (const lang of LANGS) {
      it(`${lang}: no message uses a synonym the glossary rules out`, function () {
        const problems: string[] = [];
        for (const [concept, terms] of Object.entries(GLOSSARY)) {
          for (const avoid of terms[lang].avoid) {
            const pattern =
              lang === "zgh"
                ? new RegExp(avoid.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "u")
                : new RegExp(`(?<!\\p{L})${avoid.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?!\\p{L})`, "iu");
            // A Tamazight entry padded with spaces is a whole word (ⴰⴳⵔⵓⵎ, not the ⴰⴳⵔⵓⵎ of ⵜⴰⴳⵔⵓⵎⵎⴰ).
            const whole = lang === "zgh" && avoid.startsWith(" ");
            for (const r of rendered[lang]) {
              const text = ` ${strip(r.text).replace(/[.,:;?!«»()]/g, " ")} `;
              if (whole ? text.includes(avoid) : pattern.test(text))
                problems.push(`${key(r)}: "${avoid}" for ${concept} ("${terms[lang].word}"): ${r.text}`);
            }
          }
        }
        expect(problems, problems.join("\n")).to.deep.equal([]);
      });

      it(`${lang}: the catalog's own glossary block uses the glossary's words`, function () {
        const block = CATALOGS[lang].glossary;
        for (const concept of ["cooperative", "member", "lot"] as const)
          expect(block[concept], `${lang} ${concept}`).to.include(GLOSSARY[concept][lang].word);
      });
    }

    it("catches a synonym when one is there (the check can fail)", function () {
      const text = " ⵢⴰⵏ ⵓⵣⵏⵓⵣⵓ ⵏ ⵜⴳⵔⵓⵎⵎⴰ ";
      expect(GLOSSARY.sale.zgh.avoid.some((a) => text.includes(a.trim()))).to.equal(true);
    });
  });
});
