import type { Catalog } from "./types";

/**
 * Standard Moroccan Tamazight in Tifinagh (IRCAM spelling). Short sentences; a count is written
 * "label: n". Technical words with no common Tamazight form (blockchain, GTIN, API) keep their
 * usual name. Missing step and product names fall back to the English catalog.
 */
export const zgh: Catalog = {
  lang: "zgh",
  dir: "ltr",
  locale: "zgh",
  name: "ⵜⴰⵎⴰⵣⵉⵖⵜ",

  site: {
    name: "CoopTrace",
    tagline: "ⵎⴰⵏⵉ ⴷ ⵉⴽⴽⴰ ⵓⴼⴰⵔⵉⵙ, ⴷ ⵎⴰ ⵢⵓⵎⵥⵏ ⵉⴷⵔⵉⵎⵏ ⵏⵏⵙ",
    language: "ⵜⵓⵜⵍⴰⵢⵜ",
    market: "ⴰⵙⵓⵇ",
    footer: "ⵉⵙⴼⴽⴰ ⵏ ⵜⴰⵙⵏⴰ ⴰⴷ ⴽⴽⴰⵏ ⴷ ⵙⴳ ⵢⴰⵏ ⴱⵍⵓⴽⵛⵉⵏ ⴰⵎⴰⵜⴰⵢ. ⴽⵓ ⵢⴰⵏ ⵉⵣⵎⵔ ⴰⴷ ⵜⵏ ⵉⵥⵕ.",
  },

  status: {
    confirmedTitle: "ⵉⵜⵜⵡⴰⵥⵕⴰ ⴳ ⴱⵍⵓⴽⵛⵉⵏ",
    confirmedText: (chain, block, time) => `ⵉⵜⵜⵓⵖⵔⴰ ⵙⴳ ⴱⵍⵓⴽⵛⵉⵏ ${chain}, ⴰⵔ ⴰⴱⵍⵓⴽ ${block}, ⴳ ${time}.`,
    disputeTitle: "ⵢⴰⵏ ⵓⵣⵏⵓⵣⵓ ⵏ ⵜⴳⵔⵓⵎⵎⴰ ⴰⴷ ⵉⵍⵍⴰ ⴳⵉⵙ ⵓⵎⵏⵏⵓⵖ",
    disputeText: "ⴰⵎⵙⵖⵉ ⵓⵔ ⵉⵔⴹⵉ. ⵔⴰⴷ ⵉⴳⴳⵣⵎ ⵓⵎⵙⵙⵓⴳⵓⵔ ⵏ ⵓⵎⵏⵏⵓⵖ. ⵉⴷⵔⵉⵎⵏ ⵇⵇⵉⵎⵏ ⵃⴹⴰⵏ.",
  },

  batch: {
    lot: "ⵜⴰⴳⵔⵓⵎⵎⴰ",
    product: "ⴰⴼⴰⵔⵉⵙ",
    quantity: "ⵜⴰⵙⵎⴽⵜⴰ",
    available: "ⵓⵔ ⵙⵓⵍ ⵜⵜⵓⵣⵏⵣ",
    origin: "ⴰⵖⴱⴰⵍⵓ",
    productionDate: "ⴰⵙⴰⴽⵓⴷ ⵏ ⵓⵙⵏⵓⵍⴼⵓ",
    gtin: "ⵜⴰⵏⴳⴰⵍⵜ ⵏ ⵓⴼⴰⵔⵉⵙ (GTIN)",
    registered: "ⵜⵜⵓⵣⵎⵎⴻⵎ ⵜⴳⵔⵓⵎⵎⴰ",
  },

  cooperative: {
    title: "ⵜⴰⵎⵢⴰⵡⴰⵙⵜ",
    region: "ⵜⴰⵎⵏⴰⴹⵜ",
    womenLed: "ⵜⴰⵎⵢⴰⵡⴰⵙⵜ ⵏ ⵜⵎⵖⴰⵔⵉⵏ",
    members: (n) => `ⵉⵎⵢⴰⵡⴰⵙⵏ: ${n}`,
    contributors: (n) => `ⵉⵎⵢⴰⵡⴰⵙⵏ ⵏⵏⴰ ⵉⵅⴷⵎⵏ ⴳ ⵜⴳⵔⵓⵎⵎⴰ ⴰⴷ: ${n}`,
    reserveRate: (pct) => `ⵜⵜⵃⴹⵓ ${pct} ⵙⴳ ⴽⵓ ⴰⵣⵏⵓⵣⵓ`,
  },

  journey: {
    title: "ⴰⴱⵔⵉⴷ ⵏ ⵜⴳⵔⵓⵎⵎⴰ ⴰⴷ",
    none: "ⵓⵔ ⵜⵍⵍⵉ ⴽⵔⴰ ⵏ ⵜⵙⵓⵔⵉⴼⵜ.",
    registered: "ⵜⵜⵓⵣⵎⵎⴻⵎ ⵜⴳⵔⵓⵎⵎⴰ",
    place: "ⴰⴷⵖⴰⵔ",
    steps: {
      harvesting: "ⴰⵎⴳⵔ",
      drying: "ⴰⵙⵇⵇⵓⵔ",
      distilling: "ⴰⵇⵟⵟⴰⵔ",
      sorting: "ⴰⵙⵜⴰⵢ",
      cleaning: "ⴰⵙⵉⵣⴷⴳ",
      weaving: "ⴰⵥⵟⵟⴰ",
      packing: "ⴰⴽⵎⵎⵙ",
      commissioning: "ⴰⵙⵏⵓⵍⴼⵓ ⵏ ⵜⴳⵔⵓⵎⵎⴰ",
      inspecting: "ⴰⵙⵙⵉⴳⴳⵍ",
      storing: "ⴰⵙⵔⵙ",
      transporting: "ⴰⵙⵎⵓⵜⵜⵉ",
      shipping: "ⴰⵣⴰⵏ",
      departing: "ⴰⴼⵓⵖ",
      arriving: "ⴰⵍⴽⴰⵎ",
      receiving: "ⵜⵜⵓⵎⵥ",
      accepting: "ⵜⵜⵓⵇⴱⵍ",
      retail_selling: "ⵜⵜⵓⵣⵏⵣ ⴳ ⵜⵃⴰⵏⵓⵜ",
      other: "ⵜⴰⵙⵓⵔⵉⴼⵜ ⵢⴰⴹⵏ",
    },
  },

  certifications: {
    title: "ⵜⵉⵎⴰⵜⴰⵔⵉⵏ",
    none: "ⵓⵔ ⵜⵍⵍⵉ ⴽⵔⴰ ⵏ ⵜⵎⴰⵜⴰⵔⵜ.",
    valid: "ⵉⵙⵖⵣⵏ",
    expired: "ⵜⵣⵔⵉ ⵜⵉⵣⵉ ⵏⵏⵙ",
    revoked: "ⵉⵜⵜⵡⴰⴽⴽⵙ",
    validUntil: (d) => `ⵉⵙⵖⵣⵏ ⴰⵔ ${d}`,
    expiredOn: (d) => `ⵜⵣⵔⵉ ⵜⵉⵣⵉ ⵏⵏⵙ ⴳ ${d}`,
    noEnd: "ⵓⵔ ⴷⴰⵔⵙ ⵜⵉⴳⵉⵔⴰ",
    revokedOn: (d) => `ⵉⵜⵜⵡⴰⴽⴽⵙ ⴳ ${d}`,
    revokedWarning: "ⵜⴰⵎⴰⵜⴰⵔⵜ ⴰⴷ ⵜⵜⵡⴰⴽⴽⵙ. ⵓⵔ ⵜⵜ ⵜⵜⴰⵎⵏ.",
    certifier: "ⵎⴰ ⵜⵜ ⵉⴼⴽⴰⵏ",
  },

  lineage: {
    title: "ⵙⴳ ⵎⴰ ⵜⵜⵓⵙⴽⴰⵔ, ⴷ ⵎⴰ ⴷ ⵜⵓⵖⵓⵍ",
    madeFrom: "ⵜⵜⵓⵙⴽⴰⵔ ⵙⴳ",
    madeInto: "ⵜⵓⵖⵓⵍ ⴷ",
    split: "ⴰⴱⵟⵟⵓ",
    merge: "ⴰⵙⵏⴼⵍ",
  },

  sales: {
    title: "ⴰⵣⵏⵓⵣⵓ ⴷ ⵓⴱⵟⵟⵓ ⵏ ⵉⴷⵔⵉⵎⵏ",
    none: "ⵓⵔ ⵉⵍⵍⵉ ⴽⵔⴰ ⵏ ⵓⵣⵏⵓⵣⵓ.",
    sale: (id) => `ⴰⵣⵏⵓⵣⵓ ${id}`,
    states: {
      Created: "ⵉⵜⵜⵓⵙⵙⵓⵎⴰⵏ",
      Funded: "ⵉⵜⵜⵓⵅⵍⵍⵚ, ⵉⴷⵔⵉⵎⵏ ⵃⴹⴰⵏ",
      Shipped: "ⵉⵜⵜⵡⴰⵣⵏ",
      Disputed: "ⵉⵍⵍⴰ ⴳⵉⵙ ⵓⵎⵏⵏⵓⵖ",
      Released: "ⵜⵜⵓⴱⴹⴰⵏ ⵉⴷⵔⵉⵎⵏ",
      Resolved: "ⵉⵜⵜⵓⴼⵙⵉ ⵓⵎⵏⵏⵓⵖ",
      Cancelled: "ⵉⵜⵜⵓⵙⵔ",
      Refunded: "ⵓⵖⵓⵍⵏ ⵉⴷⵔⵉⵎⵏ ⵉ ⵓⵎⵙⵖⵉ",
    },
    confirmed: "ⴰⵎⵙⵖⵉ ⵢⵓⵎⵥ ⴰⴼⴰⵔⵉⵙ",
    price: "ⴰⵜⵉⴳ",
    quantity: "ⵜⴰⵙⵎⴽⵜⴰ",
    reserved: "ⵉ ⵢⴰⵏ ⵓⵎⵙⵖⵉ ⵖⴰⵙ",
    shareTitle: "ⴰⴱⵟⵟⵓ ⵏ ⵉⴷⵔⵉⵎⵏ",
    gross: "ⵎⴰ ⵉⵅⵍⵍⵚ ⵓⵎⵙⵖⵉ",
    fee: (pct) => `ⵜⴰⴳⵣⵎⵉ ⵏ CoopTrace (${pct})`,
    reserve: (pct) => `ⵜⴰⴳⵣⵎⵉ ⵏ ⵜⵎⵢⴰⵡⴰⵙⵜ (${pct})`,
    net: "ⵜⴰⴳⵣⵎⵉ ⵏ ⵉⵎⵢⴰⵡⴰⵙⵏ",
    netNote: (n) => `ⵜⵜⵓⴱⴹⴰ ⴳⵔ ⵉⵎⵢⴰⵡⴰⵙⵏ, ⴽⵓ ⵢⴰⵏ ⵙ ⵎⴰ ⵉⴼⴽⴰ. ⵉⵎⵢⴰⵡⴰⵙⵏ: ${n}.`,
    notPaidYet: "ⵓⵔ ⵙⵓⵍ ⵉⵜⵜⵓⵅⵍⵍⵚ.",
    refunded: "ⵓⵖⵓⵍⵏ ⵉ ⵓⵎⵙⵖⵉ",
    disputeOpen: "ⴰⵎⵙⵖⵉ ⵉⵔⵥⵎ ⴰⵎⵏⵏⵓⵖ.",
    disputeResolved: (pct) => `ⵉⵜⵜⵓⴼⵙⵉ ⵓⵎⵏⵏⵓⵖ: ${pct} ⵓⵖⵓⵍⵏ ⵉ ⵓⵎⵙⵖⵉ.`,
  },

  proof: {
    summary: (block) => `ⴰⵏⵎⵎⴰⵍ ⴳ ⴱⵍⵓⴽⵛⵉⵏ: ⴰⴱⵍⵓⴽ ${block}`,
    tx: "ⵜⵉⴳⴰⵡⵜ",
    block: "ⴰⴱⵍⵓⴽ",
    chain: "ⴱⵍⵓⴽⵛⵉⵏ",
    time: "ⴰⴽⵓⴷ",
  },

  yourself: {
    title: "ⵥⵕ ⵙ ⵉⵅⴼ ⵏⵏⴽ",
    text: "ⵓⵔ ⵜⵅⵚⵚⴰ ⴰⴷ ⵜⴰⵎⵏⴷ ⴰⵙⵉⵜ ⴰⴷ. ⴰⵎⴰⵙⵙ ⵏ CoopTrace ⵉⵖⵔⴰ ⵉⵙⴼⴽⴰ ⴰⴷ ⵙⴳ ⴱⵍⵓⴽⵛⵉⵏ:",
    rpcHint: (chain) => `ⵖ <rpc url>, ⵙⵙⵎⵔⵙ ⴽⵔⴰ ⵏ ⵓⵎⴰⴽⴽⴰⵢ ⵏ ⴱⵍⵓⴽⵛⵉⵏ ${chain}.`,
    deploymentHint: "ⴰⴼⴰⵢⵍⵓ (--deployment) ⵉⵙⵙⵓⵎⴰⵏ ⵜⵉⵎⵙⴰⵙⴰⵏⵉⵏ ⴰⴷ:",
    contracts: "ⵜⵉⵎⵙⴰⵙⴰⵏⵉⵏ (contracts)",
    deployedAt: (block) => `ⴰⴱⵍⵓⴽ ${block}`,
    json: "ⵉⵙⴼⴽⴰ ⴰⴷ ⵙ JSON",
  },

  errors: {
    notFoundTitle: "ⵓⵔ ⵜⵍⵍⵉ ⵜⴳⵔⵓⵎⵎⴰ ⴰⴷ",
    notFoundText: "ⵓⵔ ⵜⵍⵍⵉ ⴽⵔⴰ ⵏ ⵜⴳⵔⵓⵎⵎⴰ ⵙ ⵜⵏⴳⴰⵍⵜ ⴰⴷ. ⵥⵕ ⵜⴰⵏⴳⴰⵍⵜ ⵍⵍⵉ ⵉⵍⵍⴰⵏ ⵅⴼ ⵓⴼⴰⵔⵉⵙ.",
    badCodeTitle: "ⵜⴰⵣⴳⵍⵜ ⴳ ⵜⵏⴳⴰⵍⵜ",
    badCodeText: "ⵜⴰⵏⴳⴰⵍⵜ ⵏ ⵓⴼⴰⵔⵉⵙ ⴳⵉⵙ ⵜⴰⵣⴳⵍⵜ. ⵥⵕ ⵜⴰⵏⴳⴰⵍⵜ, ⵏⵖ ⵙⵇⵙⴰ ⵡⵉⵏⵏⴰ ⴽ ⵉⵣⵣⵏⵣⵏ.",
    unavailableTitle: "ⵓⵔ ⵏⵣⵎⵉⵔ ⴰⴷ ⵏⵥⵕ ⵖⵉⵍⴰⴷ",
    unavailableText: "ⵓⵔ ⵏⵣⵎⵉⵔ ⴰⴷ ⵏⵍⴽⵎ ⴱⵍⵓⴽⵛⵉⵏ, ⵏⵖ ⵉⵙⴼⴽⴰ ⵏⵏⵖ ⵓⵔ ⵙⵓⵍ ⵍⴽⵎⵏ.",
    unavailableNote: "ⵓⵔ ⵏⵙⵙⵓⵎⴰⵏ ⵉⵙⴼⴽⴰ ⵏⵏⴰ ⵓⵔ ⵏⵥⵕⴰ.",
    tryAgain: "ⴰⵔⵎ ⴷⴰⵖ ⴷⴼⴼⵉⵔ ⵢⴰⵏ ⵉⵎⵉⴽⴽ.",
    errorTitle: "ⵜⴰⵣⴳⵍⵜ",
    errorText: "ⵓⵔ ⵜⵣⵎⵉⵔ ⵜⴰⵙⵏⴰ ⴰⴷ ⴰⴷ ⵜⴱⴰⵢⵏ. ⴰⵔⵎ ⴷⴰⵖ ⴷⴼⴼⵉⵔ ⵢⴰⵏ ⵉⵎⵉⴽⴽ.",
    home: "ⴷⴷⵓ ⵖⵔ ⵓⵙⵓⵇ",
  },

  market: {
    title: "ⴰⵙⵓⵇ ⵏ ⵜⵎⵢⴰⵡⴰⵙⵉⵏ",
    intro: "ⵉⴼⴰⵔⵉⵙⵏ ⵏⵏⴰ ⵉⵜⵜⵓⵣⵏⵣⴰⵏ ⵖⵉⵍⴰⴷ. ⴽⵓ ⵢⴰⵏ ⴷⴰⵔⵙ ⴰⵙⵖⵏ ⵖⵔ ⵓⴱⵔⵉⴷ ⵏ ⵜⴳⵔⵓⵎⵎⴰ ⵏⵏⵙ.",
    product: "ⴰⴼⴰⵔⵉⵙ",
    region: "ⵜⴰⵎⵏⴰⴹⵜ",
    all: "ⴰⴽⴽⵯ",
    show: "ⵙⵙⵓⵎⴰⵏ",
    none: "ⵓⵔ ⵉⵍⵍⵉ ⴽⵔⴰ.",
    count: (n) => `ⵉⴼⴰⵔⵉⵙⵏ: ${n}`,
    story: "ⵎⴰⵏⵉ ⴷ ⵉⴽⴽⴰ",
    cooperative: "ⵜⴰⵎⵢⴰⵡⴰⵙⵜ",
    fundHint: "ⵉⵎⵙⵖⴰ ⵍⵍⵉ ⴷⴰⵔⵙⵏ ⴰⵎⵉⴹⴰⵏ ⵅⵍⵍⵚⵏ ⵙ API ⵏ CoopTrace.",
    uncheckedNotice: "ⵓⵔ ⵏⵣⵎⵉⵔ ⴰⴷ ⵏⵍⴽⵎ ⴱⵍⵓⴽⵛⵉⵏ ⵖⵉⵍⴰⴷ: ⵜⴰⵍⴳⴰⵎⵜ ⴰⴷ ⵜⵣⵎⵔ ⴰⴷ ⵜⴳ ⵜⴰⵇⴱⵓⵔⵜ.",
    next: "ⵜⴰⴹⴼⴼⴰⵔⵜ",
    previous: "ⵜⴰⵎⵣⵡⴰⵔⵓⵜ",
  },

  units: { g: "g", kg: "kg", ml: "ml", l: "l", piece: "ⵉⴼⵔⴷⵉⵙⵏ", pieces: "ⵉⴼⵔⴷⵉⵙⵏ" },

  products: {
    "rose-petals": "ⵉⴼⵔⴰⵡⵏ ⵏ ⵍⵡⵔⴷ",
    "rose-petals-fresh": "ⵉⴼⵔⴰⵡⵏ ⵏ ⵍⵡⵔⴷ",
    "rose-buds": "ⵍⵡⵔⴷ ⵉⵇⵇⵓⵔⵏ",
    "rose-water": "ⴰⵎⴰⵏ ⵏ ⵍⵡⵔⴷ",
    "dates-mejhoul": "ⵜⵉⵢⵏⵉ ⵏ ⵎⴻⵊⵀⵓⵍ",
    "dates-boufeggous": "ⵜⵉⵢⵏⵉ ⵏ ⴱⵓⴼⴻⴳⴳⵓⵙ",
    almonds: "ⵍⵍⵓⵣ",
    apples: "ⵜⵜⴼⴼⴰⵃ",
    saffron: "ⵣⵣⵄⴼⵔⴰⵏ",
    henna: "ⵍⵃⵏⵏⴰ",
    carpet: "ⴰⵃⵏⴱⵍ",
  },
};
