/**
 * One word per concept per language. A reader who meets "lot" on one page and "batch" on the next
 * wonders whether they are two things; a Tamazight reader who meets two words for "sale" does too. Each
 * concept names the word every catalog uses (in the form a dictionary gives) and the synonyms that were
 * used before or would come naturally, which no catalog message may contain
 * (test/unit/i18n-glossary.test.ts renders every message and looks for them).
 *
 * Tamazight words follow IRCAM's standard vocabulary where we know it; a native speaker reviews them.
 */
import type { Lang } from "./types";

export interface Term {
  /** The word, as a dictionary gives it (free state, singular). */
  word: string;
  /**
   * Words that must not appear in any message of the language (matched as whole words, any case). A
   * Tamazight entry is matched anywhere in a word: its prefixes (state, plural) vary.
   */
  avoid: readonly string[];
}

export type Concept = "cooperative" | "member" | "lot" | "sale" | "offer" | "buyer" | "certification";

export const GLOSSARY: Record<Concept, Record<Lang, Term>> = {
  cooperative: {
    en: { word: "cooperative", avoid: ["co-op", "coop", "co-operative"] },
    fr: { word: "coopérative", avoid: ["coop"] },
    ar: { word: "تعاونية", avoid: ["جمعية تعاونية"] },
    zgh: { word: "ⵜⴰⵎⵢⴰⵡⴰⵙⵜ", avoid: ["ⵜⴰⵄⴰⵡⵏⵉⵜ"] },
  },
  member: {
    en: { word: "member", avoid: ["adherent"] },
    // "adhérente" was the manager pages' word while the rest said "membre".
    fr: { word: "membre", avoid: ["adhérent", "adhérente", "adhérents", "adhérentes"] },
    ar: { word: "عضو", avoid: ["منخرط", "منخرطة", "منخرطون"] },
    zgh: { word: "ⴰⵎⵢⴰⵡⴰⵙ", avoid: ["ⴰⵎⴷⴷⴰⴽⴽⵍ"] },
  },
  lot: {
    en: { word: "lot", avoid: ["batch", "batches"] },
    fr: { word: "lot", avoid: ["batch", "partie"] },
    ar: { word: "دفعة", avoid: ["شحنة", "حمولة"] },
    // ⴰⴳⵔⵓⵎ was the certifier pages' word for a lot; ⵜⴳⵔⵓⵎⵎⵉⵡⵉⵏ a second plural of ⵜⴰⴳⵔⵓⵎⵎⴰ.
    zgh: { word: "ⵜⴰⴳⵔⵓⵎⵎⴰ", avoid: [" ⴰⴳⵔⵓⵎ ", " ⵓⴳⵔⵓⵎ ", "ⵜⴳⵔⵓⵎⵎⵉⵡⵉⵏ"] },
  },
  sale: {
    en: { word: "sale", avoid: [] },
    fr: { word: "vente", avoid: [] },
    ar: { word: "بيع", avoid: [] },
    // ⴰⵣⵏⵓⵣⵓ was the verify page's word while the workspace said ⴰⵣⵏⵣⵉ (the "two words for sale").
    // ⴰⵣⵣⵏⵣ was the arbiter's, audit home's and payout pages' singular (its plural ⵉⵣⵣⵏⵣⵏ stays).
    zgh: { word: "ⴰⵣⵏⵣⵉ", avoid: ["ⵣⵏⵓⵣⵓ", "ⴰⵣⵣⵏⵣ", "ⵓⵣⵣⵏⵣ"] },
  },
  offer: {
    en: { word: "offer", avoid: ["listing"] },
    fr: { word: "offre", avoid: ["annonce"] },
    ar: { word: "عرض", avoid: [] },
    zgh: { word: "ⴰⵙⵏⵣⵉ", avoid: ["ⴰⵙⵓⵎⵔ", "ⵓⵙⵓⵎⵔ"] },
  },
  buyer: {
    en: { word: "buyer", avoid: ["customer", "purchaser"] },
    fr: { word: "acheteur", avoid: ["client", "cliente"] },
    ar: { word: "مشتري", avoid: ["زبون", "الزبون"] },
    zgh: { word: "ⴰⵎⵙⴰⵖ", avoid: [] },
  },
  certification: {
    en: { word: "certification", avoid: [] },
    fr: { word: "certification", avoid: [] },
    ar: { word: "الإشهاد", avoid: [] },
    zgh: { word: "ⵜⴰⵎⴰⵜⴰⵔⵜ", avoid: [] },
  },
};
