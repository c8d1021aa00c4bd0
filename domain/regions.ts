/**
 * The twelve regions of Morocco and their provinces and prefectures (the 2015 division, decree
 * 2-15-40), with the codes of ISO 3166-2:MA: "MA-01" … "MA-12" for regions (the decree's own numbers)
 * and three letters for provinces and prefectures ("MA-TIN" Tinghir). A cooperative's region is chosen
 * from this list when it is registered, and the province code is what goes on-chain in the registry's
 * `region` field: one spelling per place, so figures per region never split between "Drâa-Tafilalet"
 * and "Draa Tafilalet".
 *
 * Cooperatives registered before the list carry free text on-chain; `placeOf` maps it to the list when
 * it names a province (or a town of the region named in DOMAIN.md) or a region, in any usual spelling.
 *
 * Names in Arabic, French and English; in Tifinagh only where the name is settled (Drâa-Tafilalet and
 * its provinces): elsewhere Tamazight pages show the French (Latin) name.
 */

export type PlaceLang = "ar" | "zgh" | "fr" | "en";

export interface PlaceNames {
  ar: string;
  fr: string;
  en: string;
  zgh?: string;
}

export interface Region extends PlaceNames {
  /** "MA-01" … "MA-12". */
  code: string;
}

export interface Province extends PlaceNames {
  /** "MA-" and three letters. */
  code: string;
  kind: "province" | "prefecture";
  /** The region's code. */
  region: string;
  /** Other spellings and the towns whose name alone says the province (for mapping free text). */
  aliases?: string[];
}

type P = [code: string, fr: string, ar: string, en?: string, kind?: "prefecture", aliases?: string[], zgh?: string];

const PREF = "prefecture" as const;

/** [code, French, Arabic, English, Tifinagh] of each region, then its provinces and prefectures. */
const DIVISION: [Region, P[]][] = [
  [
    { code: "MA-01", fr: "Tanger-Tétouan-Al Hoceïma", ar: "طنجة - تطوان - الحسيمة", en: "Tangier-Tetouan-Al Hoceima" },
    [
      ["MA-TNG", "Tanger-Assilah", "طنجة - أصيلة", "Tangier-Assilah", PREF, ["Tanger", "Tangier", "Tanja"]],
      ["MA-MDF", "M'diq-Fnideq", "المضيق - الفنيدق", undefined, PREF],
      ["MA-TET", "Tétouan", "تطوان", "Tetouan"],
      ["MA-FAH", "Fahs-Anjra", "الفحص - أنجرة"],
      ["MA-LAR", "Larache", "العرائش"],
      ["MA-HOC", "Al Hoceïma", "الحسيمة", "Al Hoceima"],
      ["MA-CHE", "Chefchaouen", "شفشاون", undefined, undefined, ["Chaouen"]],
      ["MA-OUZ", "Ouezzane", "وزان"],
    ],
  ],
  [
    { code: "MA-02", fr: "L'Oriental", ar: "الشرق", en: "Oriental" },
    [
      ["MA-OUJ", "Oujda-Angad", "وجدة - أنكاد", undefined, PREF, ["Oujda"]],
      ["MA-NAD", "Nador", "الناظور"],
      ["MA-DRI", "Driouch", "الدريوش"],
      ["MA-JRA", "Jerada", "جرادة"],
      ["MA-BER", "Berkane", "بركان"],
      ["MA-TAI", "Taourirt", "تاوريرت"],
      ["MA-GUF", "Guercif", "جرسيف"],
      ["MA-FIG", "Figuig", "فجيج"],
    ],
  ],
  [
    { code: "MA-03", fr: "Fès-Meknès", ar: "فاس - مكناس", en: "Fez-Meknes" },
    [
      ["MA-FES", "Fès", "فاس", "Fez", PREF, ["Fez"]],
      ["MA-MEK", "Meknès", "مكناس", "Meknes", PREF],
      ["MA-HAJ", "El Hajeb", "الحاجب"],
      ["MA-IFR", "Ifrane", "إفران"],
      ["MA-MOU", "Moulay Yacoub", "مولاي يعقوب"],
      ["MA-SEF", "Sefrou", "صفرو"],
      ["MA-BOM", "Boulemane", "بولمان"],
      ["MA-TAO", "Taounate", "تاونات"],
      ["MA-TAZ", "Taza", "تازة"],
    ],
  ],
  [
    { code: "MA-04", fr: "Rabat-Salé-Kénitra", ar: "الرباط - سلا - القنيطرة", en: "Rabat-Sale-Kenitra" },
    [
      ["MA-RAB", "Rabat", "الرباط", undefined, PREF],
      ["MA-SAL", "Salé", "سلا", "Sale", PREF],
      ["MA-SKH", "Skhirate-Témara", "الصخيرات - تمارة", "Skhirate-Temara", PREF, ["Temara"]],
      ["MA-KEN", "Kénitra", "القنيطرة", "Kenitra"],
      ["MA-KHE", "Khémisset", "الخميسات", "Khemisset"],
      ["MA-SIK", "Sidi Kacem", "سيدي قاسم"],
      ["MA-SIL", "Sidi Slimane", "سيدي سليمان"],
    ],
  ],
  [
    { code: "MA-05", fr: "Béni Mellal-Khénifra", ar: "بني ملال - خنيفرة", en: "Beni Mellal-Khenifra" },
    [
      ["MA-BEM", "Béni Mellal", "بني ملال", "Beni Mellal"],
      ["MA-AZI", "Azilal", "أزيلال"],
      ["MA-FQH", "Fquih Ben Salah", "الفقيه بن صالح"],
      ["MA-KHN", "Khénifra", "خنيفرة", "Khenifra"],
      ["MA-KHO", "Khouribga", "خريبكة"],
    ],
  ],
  [
    { code: "MA-06", fr: "Casablanca-Settat", ar: "الدار البيضاء - سطات", en: "Casablanca-Settat" },
    [
      ["MA-CAS", "Casablanca", "الدار البيضاء", undefined, PREF],
      ["MA-MOH", "Mohammédia", "المحمدية", "Mohammedia", PREF],
      ["MA-JDI", "El Jadida", "الجديدة"],
      ["MA-NOU", "Nouaceur", "النواصر"],
      ["MA-MED", "Médiouna", "مديونة", "Mediouna"],
      ["MA-BES", "Benslimane", "بنسليمان"],
      ["MA-BRR", "Berrechid", "برشيد"],
      ["MA-SET", "Settat", "سطات"],
      ["MA-SIB", "Sidi Bennour", "سيدي بنور"],
    ],
  ],
  [
    { code: "MA-07", fr: "Marrakech-Safi", ar: "مراكش - آسفي", en: "Marrakesh-Safi" },
    [
      ["MA-MAR", "Marrakech", "مراكش", "Marrakesh", PREF, ["Marrakesh"]],
      ["MA-CHI", "Chichaoua", "شيشاوة"],
      ["MA-HAO", "Al Haouz", "الحوز"],
      ["MA-KES", "El Kelâa des Sraghna", "قلعة السراغنة", "El Kelaa des Sraghna"],
      ["MA-ESI", "Essaouira", "الصويرة"],
      ["MA-REH", "Rehamna", "الرحامنة"],
      ["MA-SAF", "Safi", "آسفي"],
      ["MA-YUS", "Youssoufia", "اليوسفية"],
    ],
  ],
  [
    { code: "MA-08", fr: "Drâa-Tafilalet", ar: "درعة - تافيلالت", en: "Draa-Tafilalet", zgh: "ⴷⵔⵄⴰ-ⵜⴰⴼⵉⵍⴰⵍⵜ" },
    [
      [
        "MA-ERR",
        "Errachidia",
        "الرشيدية",
        undefined,
        undefined,
        ["Er-Rachidia", "Rachidia", "Erfoud", "Rissani", "Goulmima", "Tinejdad", "Aoufous"],
        "ⵔⵔⴰⵛⵉⴷⵢⴰ",
      ],
      ["MA-OUA", "Ouarzazate", "ورزازات", undefined, undefined, ["Ouarzazat", "Skoura"], "ⵡⴰⵔⵣⴰⵣⴰⵜ"],
      ["MA-MID", "Midelt", "ميدلت", undefined, undefined, undefined, "ⵎⵉⴷⵍⵜ"],
      [
        "MA-TIN",
        "Tinghir",
        "تنغير",
        undefined,
        undefined,
        ["Tineghir", "Tinerhir", "Kelaat M'Gouna", "Kelaa M'Gouna", "Qalaat Mgouna", "Boumalne Dades", "Assoul"],
        "ⵜⵉⵏⵖⵉⵔ",
      ],
      ["MA-ZAG", "Zagora", "زاكورة", undefined, undefined, ["Tamegroute", "Mhamid", "Agdz"], "ⵣⴰⴳⵓⵔⴰ"],
    ],
  ],
  [
    { code: "MA-09", fr: "Souss-Massa", ar: "سوس - ماسة", en: "Souss-Massa" },
    [
      ["MA-AGD", "Agadir-Ida-Ou-Tanane", "أكادير - إدا وتنان", undefined, PREF, ["Agadir"]],
      ["MA-INE", "Inezgane-Aït Melloul", "إنزكان - آيت ملول", "Inezgane-Ait Melloul", PREF],
      ["MA-CHT", "Chtouka-Aït Baha", "اشتوكة - آيت باها", "Chtouka-Ait Baha"],
      ["MA-TAR", "Taroudannt", "تارودانت", undefined, undefined, ["Taroudant", "Taliouine"]],
      ["MA-TIZ", "Tiznit", "تيزنيت", undefined, undefined, ["Tafraout"]],
      ["MA-TAT", "Tata", "طاطا", undefined, undefined, ["Foum Zguid"]],
    ],
  ],
  [
    { code: "MA-10", fr: "Guelmim-Oued Noun", ar: "كلميم - واد نون", en: "Guelmim-Oued Noun" },
    [
      ["MA-GUE", "Guelmim", "كلميم"],
      ["MA-ASZ", "Assa-Zag", "آسا - الزاك"],
      ["MA-TNT", "Tan-Tan", "طانطان"],
      ["MA-SIF", "Sidi Ifni", "سيدي إفني"],
    ],
  ],
  [
    { code: "MA-11", fr: "Laâyoune-Sakia El Hamra", ar: "العيون - الساقية الحمراء", en: "Laayoune-Sakia El Hamra" },
    [
      ["MA-LAA", "Laâyoune", "العيون", "Laayoune"],
      ["MA-BOD", "Boujdour", "بوجدور"],
      ["MA-TAF", "Tarfaya", "طرفاية"],
      ["MA-ESM", "Es-Semara", "السمارة", undefined, undefined, ["Smara"]],
    ],
  ],
  [
    { code: "MA-12", fr: "Dakhla-Oued Ed-Dahab", ar: "الداخلة - وادي الذهب", en: "Dakhla-Oued Ed-Dahab" },
    [
      ["MA-OUD", "Oued Ed-Dahab", "وادي الذهب", undefined, undefined, ["Dakhla"]],
      ["MA-AOU", "Aousserd", "أوسرد"],
    ],
  ],
];

export const REGIONS: readonly Region[] = DIVISION.map(([r]) => r);

export const PROVINCES: readonly Province[] = DIVISION.flatMap(([r, list]) =>
  list.map(([code, fr, ar, en, kind, aliases, zgh]) => ({
    code,
    fr,
    ar,
    en: en ?? fr,
    ...(zgh === undefined ? {} : { zgh }),
    kind: kind ?? "province",
    region: r.code,
    ...(aliases === undefined ? {} : { aliases }),
  })),
);

const REGION_BY_CODE = new Map(REGIONS.map((r) => [r.code, r]));
const PROVINCE_BY_CODE = new Map(PROVINCES.map((p) => [p.code, p]));

export const PROVINCE_CODES: readonly string[] = PROVINCES.map((p) => p.code);

export function regionByCode(code: string): Region | undefined {
  return REGION_BY_CODE.get(code);
}

export function provinceByCode(code: string): Province | undefined {
  return PROVINCE_BY_CODE.get(code);
}

/** The provinces and prefectures of a region, in the list's order. */
export function provincesOf(regionCode: string): Province[] {
  return PROVINCES.filter((p) => p.region === regionCode);
}

/** A place's name in `lang`; Tamazight falls back to the French (Latin) name where no Tifinagh one is settled. */
export function placeName(place: PlaceNames, lang: PlaceLang): string {
  return lang === "zgh" ? (place.zgh ?? place.fr) : place[lang];
}

/**
 * A spelling-insensitive form for matching: no accents, no case, no apostrophes, hyphens and
 * punctuation as spaces; Arabic hamza forms of alif, tā' marbūṭa and alif maqṣūra folded.
 */
export function foldPlace(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[أإآ]/g, "ا")
    .replace(/ة/g, "ه")
    .replace(/ى/g, "ي")
    .replace(/['’‘`ʼ]/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Folded names of every place, longest first (so "beni mellal khenifra" is found before "beni mellal"). */
function namesOf<T extends PlaceNames & { aliases?: string[] }>(places: readonly T[]): [string, T][] {
  return places
    .flatMap((p) =>
      [p.fr, p.en, p.ar, p.zgh, ...(p.aliases ?? [])]
        .filter((n): n is string => n !== undefined)
        .map((n): [string, T] => [foldPlace(n), p]),
    )
    .filter(([n]) => n !== "")
    .sort(([a], [b]) => b.length - a.length);
}

const REGION_NAMES = namesOf(REGIONS);
const PROVINCE_NAMES = namesOf(PROVINCES);

/** Where a cooperative is: its region and, when known, its province (codes); both null when not given. */
export interface PlaceOf {
  region: string | null;
  province: string | null;
}

/**
 * The place a cooperative's registry text names: a province code as registered today ("MA-TIN"), or
 * free text of an older registration ("Drâa-Tafilalet, Tinghir, Kelaat M'Gouna", "Draa Tafilalet").
 * Region names are read first and taken out (so "Tanger-Tétouan-Al Hoceïma" does not name two
 * provinces); one province gives the province and its region; several provinces of one region, or
 * a region alone, give the region; anything else (or two regions) is "not given".
 */
export function placeOf(text: string): PlaceOf {
  const code = text.trim().toUpperCase();
  const direct = PROVINCE_BY_CODE.get(code);
  if (direct !== undefined) return { region: direct.region, province: direct.code };
  if (REGION_BY_CODE.has(code)) return { region: code, province: null };
  let rest = ` ${foldPlace(text)} `;
  const regions = new Set<string>();
  for (const [name, r] of REGION_NAMES) {
    if (rest.includes(` ${name} `)) {
      regions.add(r.code);
      rest = rest.split(` ${name} `).join("  ");
    }
  }
  const provinces = new Set<Province>();
  for (const [name, p] of PROVINCE_NAMES) {
    if (rest.includes(` ${name} `)) {
      provinces.add(p);
      rest = rest.split(` ${name} `).join("  ");
    }
  }
  if (provinces.size === 1) {
    const [p] = provinces;
    if (regions.size === 0 || regions.has(p.region)) return { region: p.region, province: p.code };
  }
  // Provinces of one region ("Tinghir, Zagora") still say the region.
  for (const p of provinces) regions.add(p.region);
  return regions.size === 1 ? { region: [...regions][0], province: null } : { region: null, province: null };
}

/**
 * A province chosen for a new registration: its code, or a name that is exactly one province's (any
 * language or usual spelling: "Tinghir", "تنغير", "Kelaat M'Gouna"); anything else is undefined.
 */
export function provinceCodeOf(input: string): string | undefined {
  const code = input.trim().toUpperCase();
  if (PROVINCE_BY_CODE.has(code)) return code;
  const folded = foldPlace(input);
  const hits = new Set(PROVINCE_NAMES.filter(([n]) => n === folded).map(([, p]) => p.code));
  return hits.size === 1 ? [...hits][0] : undefined;
}

/**
 * What a reader sees for a cooperative's registry text: a province code as "Tinghir, Drâa-Tafilalet"
 * in `lang`; older free text as it was written (it may name a town the list does not hold).
 */
export function placeLabel(text: string, lang: PlaceLang): string {
  const code = text.trim().toUpperCase();
  const province = PROVINCE_BY_CODE.get(code);
  if (province !== undefined) {
    const region = REGION_BY_CODE.get(province.region)!;
    return `${placeName(province, lang)}${lang === "ar" ? "، " : ", "}${placeName(region, lang)}`;
  }
  const region = REGION_BY_CODE.get(code);
  return region === undefined ? text : placeName(region, lang);
}
