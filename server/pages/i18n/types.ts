/**
 * The shape of a language catalog. Every string the pages show is here; sentences are short and
 * plain (many readers have limited literacy in the language they read). Functions take values that
 * are already formatted for the language (numbers, dates, percentages).
 */
import type { Role } from "../../custody/users";
import type { SaleState } from "../../index";
import type { Counted } from "./icu";

export type { Counted };

export type Lang = "ar" | "zgh" | "fr" | "en";

export interface Catalog {
  lang: Lang;
  dir: "ltr" | "rtl";
  /** BCP 47 tag for Intl (dates and numbers). */
  locale: string;
  /** The language's name in itself, for the switcher. */
  name: string;

  site: {
    name: string;
    tagline: string;
    language: string;
    market: string;
    footer: string;
  };

  status: {
    confirmedTitle: string;
    confirmedText: (chain: string, block: string, time: string) => string;
    disputeTitle: string;
    disputeText: string;
  };

  batch: {
    lot: string;
    product: string;
    quantity: string;
    available: string;
    origin: string;
    productionDate: string;
    gtin: string;
    registered: string;
  };

  cooperative: {
    title: string;
    region: string;
    womenLed: string;
    members: Counted;
    contributors: Counted;
    reserveRate: (pct: string) => string;
  };

  journey: {
    title: string;
    none: string;
    registered: string;
    place: string;
    /** Names of known business steps (GS1 CBV names and the CoopTrace vocabulary). */
    steps: Record<string, string>;
  };

  certifications: {
    title: string;
    none: string;
    valid: string;
    expired: string;
    revoked: string;
    validUntil: (date: string) => string;
    expiredOn: (date: string) => string;
    noEnd: string;
    revokedOn: (date: string) => string;
    revokedWarning: string;
    certifier: string;
  };

  lineage: {
    title: string;
    madeFrom: string;
    madeInto: string;
    split: string;
    merge: string;
  };

  sales: {
    title: string;
    none: string;
    sale: (id: string) => string;
    states: Record<SaleState, string>;
    /** The buyer confirmed delivery (a step, not a state). */
    confirmed: string;
    price: string;
    quantity: string;
    reserved: string;
    shareTitle: string;
    gross: string;
    fee: (pct: string) => string;
    reserve: (pct: string) => string;
    net: string;
    netNote: Counted;
    notPaidYet: string;
    /** The lot's members and their pay from the cooperative, naming nobody (issue 13). */
    payoutsTitle: string;
    memberCount: Counted;
    /** Counts the members who confirmed; `{members}` is `memberCount` of the lot's members. */
    payoutsConfirmed: Counted;
    remainsToPay: (amount: string) => string;
    nothingRemains: string;
    /** A euro (or other) amount's dirham equivalent at the platform's reference rate. */
    dirhamEquivalent: (amount: string, rate: string, source: string, date: string) => string;
    refunded: string;
    disputeOpen: string;
    disputeResolved: (pct: string) => string;
  };

  proof: {
    summary: (block: string) => string;
    tx: string;
    block: string;
    chain: string;
    time: string;
  };

  yourself: {
    title: string;
    text: string;
    rpcHint: (chain: string) => string;
    deploymentHint: string;
    contracts: string;
    deployedAt: (block: string) => string;
    json: string;
  };

  errors: {
    notFoundTitle: string;
    notFoundText: string;
    badCodeTitle: string;
    badCodeText: string;
    unavailableTitle: string;
    unavailableText: string;
    unavailableNote: string;
    tryAgain: string;
    errorTitle: string;
    errorText: string;
    home: string;
  };

  market: {
    title: string;
    intro: string;
    product: string;
    region: string;
    all: string;
    show: string;
    none: string;
    count: Counted;
    story: string;
    cooperative: string;
    fundHint: string;
    uncheckedNotice: string;
    next: string;
    previous: string;
  };

  /** The public regional figures page (/stats). */
  stats: {
    title: string;
    intro: string;
    /** The privacy rule, counted by the threshold k. */
    privacy: Counted;
    definitions: string;
    asOf: (block: string) => string;
    regionsTitle: string;
    productsTitle: string;
    none: string;
    month: string;
    cooperatives: string;
    womenCooperatives: string;
    members: string;
    /** For a product: the members who delivered in the month. */
    contributors: string;
    batches: string;
    quantity: string;
    sales: string;
    gross: string;
    membersShare: string;
    suppressed: string;
    chartMembers: string;
    chartBatches: string;
    chartSales: string;
    json: string;
  };

  /** The auditors' pages (/audit): sign-in with a token, a sale's split, a cooperative's period. */
  audit: {
    title: string;
    loginTitle: string;
    loginText: string;
    token: string;
    signIn: string;
    signOut: string;
    badTokenTitle: string;
    badTokenText: string;
    forbiddenTitle: string;
    forbiddenText: string;
    notFoundTitle: string;
    badPeriod: string;
    openSale: string;
    openCooperative: string;
    open: string;
    sale: (id: string) => string;
    cooperative: (name: string) => string;
    period: string;
    from: string;
    to: string;
    consistent: string;
    consistentText: string;
    inconsistent: string;
    inconsistentText: Counted;
    discrepancies: string;
    field: string;
    index: string;
    chain: string;
    figures: string;
    state: string;
    currency: string;
    gross: string;
    fee: string;
    reserve: string;
    net: string;
    refund: string;
    remainder: string;
    contributors: string;
    member: string;
    weight: string;
    share: string;
    claimed: string;
    claimable: string;
    transactions: string;
    step: string;
    tx: string;
    block: string;
    logIndex: string;
    totals: string;
    sales: string;
    reserveBalance: string;
    outstanding: string;
    members: string;
    chart: (symbol: string) => string;
    noSales: string;
    more: string;
    json: string;
  };

  /**
   * Amounts in another currency than the dirham and their dirham equivalents (server/pages/views/money.ts).
   * Values come formatted and isolated; `about` + " " + `at` follow the amount in parentheses.
   */
  money: {
    /** "≈ 9.765,00 MAD" */
    about: (dirhams: string) => string;
    /** "at 10.85 MAD per €, Bank Al-Maghrib, 3 December 2026" */
    at: (rate: string, unit: string, source: string, date: string) => string;
    /** Under a table: "Dirham equivalents at 10.85 MAD per €, …, the latest reference rate." */
    equivalents: (at: string) => string;
    /** "No reference rate for USD is recorded: no dirham equivalent." */
    noRate: (currency: string) => string;
  };

  /** Payouts members receive from their cooperative: the verify page's sentence, the audit's section. */
  auditPayouts: {
    /** The audit page's section. */
    auditTitle: string;
    auditIntro: string;
    entitled: string;
    paid: string;
    confirmedColumn: string;
    contested: string;
    outstanding: string;
    /** A negative outstanding, in words. */
    advance: (amount: string) => string;
    total: string;
    throughCooperative: string;
    none: string;
    csv: string;
  };

  /** What is wrong with a form field, in general words (the field's label says which). */
  form: {
    required: string;
    invalid: string;
    tooSmall: string;
    tooBig: string;
    inProgress: string;
    /** Shown in place of "on its way" when the chain refused the write. */
    writeFailed: string;
    /** Under the title of a write that is on its way. */
    onItsWay: string;
  };

  /** The cooperative manager's pages (server/web/manager). */
  manager: {
    dashboardTitle: string;
    openDashboard: string;
    addMember: string;
    recordBatch: string;
    recordStep: string;
    printLabels: string;
    openSalesTitle: string;
    openSaleCount: Counted;
    saleLine: (saleId: string, state: string) => string;
    unpaidTitle: string;
    unpaidCount: Counted;
    seeLot: string;
    /** Add a member. */
    memberTitle: string;
    memberName: string;
    memberReference: string;
    memberReferenceHint: string;
    pin: string;
    pinHint: string;
    pinAgain: string;
    pinMismatch: string;
    pinEasy: string;
    save: string;
    memberDoneTitle: (name: string) => string;
    memberDoneText: string;
    pinNeverShare: string;
    printCard: string;
    addAnother: string;
    backToDashboard: string;
    /** Register a batch. */
    batchTitle: string;
    product: string;
    lotCode: string;
    lotCodeHint: string;
    quantity: string;
    quantityHint: string;
    /** A decimal quantity: the contract counts whole units. */
    wholeUnits: string;
    quantityMismatch: (total: string) => string;
    unit: string;
    origin: string;
    productionDate: string;
    gtin: string;
    gtinHint: string;
    contributorsTitle: string;
    contributorsHint: string;
    delivered: string;
    noContributor: string;
    batchDoneTitle: string;
    batchDoneText: string;
    publicPage: string;
    /** Record a step. */
    stepTitle: string;
    step: string;
    where: string;
    when: string;
    whenHint: string;
    stepDoneTitle: (step: string) => string;
    stepDoneText: string;
    /** A write accepted but not mined yet. */
    pending: string;
    lookAgain: string;
    labelsText: string;
    noCooperative: string;
  };

  /** Every signed-in page (audit, workspace): refused forms, throttled sign-ins, sign-out. */
  /** The member's pages (her money, her deliveries) and the certifier's, arbiter's, registrar's. */
  roles: {
    moneyTitle: string;
    moneyIntro: string;
    deliveriesTitle: string;
    deliveriesIntro: string;
    noDeliveries: string;
    noShares: string;
    share: string;
    paid: string;
    due: string;
    releasedOn: (d: string) => string;
    sale: (n: string) => string;
    getPaid: string;
    nothingDue: string;
    paidTitle: string;
    paidText: string;
    pending: string;
    lookAgain: string;
    delivered: string;
    part: (p: string) => string;
    back: string;
    openMoney: string;
    openDeliveries: string;
    registerTitle: string;
    coopName: string;
    region: string;
    registrationNumber: string;
    reserve: string;
    reserveHint: string;
    womenLed: string;
    yes: string;
    no: string;
    adminName: string;
    register: string;
    registeredTitle: (name: string) => string;
    tokenIntro: string;
    tokenWarn: string;
    openRegister: string;
  };

  buying: {
    signUpTitle: string;
    signUpIntro: string;
    displayName: string;
    displayNameHint: string;
    signUp: string;
    signedUpTitle: string;
    tokenIntro: string;
    tokenWarn: string;
    fundsTitle: string;
    fundsIntro: string;
    getFunds: string;
    fundsDone: string;
    fundsRefused: string;
    fundsNone: string;
    offerTitle: (product: string) => string;
    cooperative: string;
    buy: string;
    buyHint: string;
    signInToBuy: string;
    notForSale: string;
    boughtTitle: string;
    boughtText: string;
    ordersTitle: string;
    noOrders: string;
    /** Money the escrow holds for the buyer after a refund or a cancelled sale. */
    refundsTitle: string;
    refundsText: string;
    withdraw: (amount: string) => string;
    withdrawnTitle: string;
    withdrawnText: string;
    confirmDelivery: string;
    openDispute: string;
    confirmedTitle: string;
    disputedTitle: string;
    stepText: string;
    pending: string;
    ship: string;
    cancel: string;
    shippedTitle: string;
    cancelledTitle: string;
    saleTitle: (id: string) => string;
    openOrders: string;
    openSale: string;
    back: string;
    sell: string;
    offerFormTitle: string;
    priceLabel: string;
    priceHint: string;
    offeredTitle: string;
  };

  roles2: {
    newUserTitle: string;
    roleQuestion: string;
    roleText: Record<"registrar" | "certifier" | "arbiter" | "auditor", string>;
    displayName: string;
    displayNameHint: string;
    createUser: string;
    roleMissing: string;
    userCreatedTitle: (name: string) => string;
    userTokenIntro: string;
    userTokenWarn: string;
    tokenGone: string;
    openNewUser: string;
    certifyTitle: string;
    cooperative: string;
    lotCode: string;
    lotCodeHint: string;
    scheme: string;
    schemes: { aop: string; organic: string; food: string };
    reference: string;
    referenceHint: string;
    validUntil: string;
    certify: string;
    cooperativeMissing: string;
    lotCodeMissing: string;
    schemeMissing: string;
    referenceMissing: string;
    validUntilBad: string;
    lotNotFound: string;
    certifiedTitle: string;
    certifiedText: string;
    openLot: string;
    openRevoke: string;
    openCertify: string;
    revokeTitle: string;
    reason: string;
    reasonHint: string;
    revoke: string;
    reasonMissing: string;
    revokedTitle: string;
    revokedText: string;
  };

  /** The manager's second set of pages: split, merge or transform lots, pay members' shares, release, card PDF. */
  manager2: {
    splitLink: string;
    splitTitle: string;
    splitIntro: (left: string) => string;
    newLot: (n: string) => string;
    newLotCode: string;
    quantityIn: (unit: string) => string;
    splitSave: string;
    splitNone: string;
    splitTooMuch: (total: string, left: string) => string;
    nothingLeft: string;
    lotExists: string;
    lotTwice: string;
    quantityMissing: string;
    splitDoneTitle: Counted;
    splitDoneText: string;
    printBagLabels: string;
    mergeLink: string;
    mergeTitle: string;
    mergeIntro: string;
    left: (quantity: string) => string;
    takeQuantity: (unit: string) => string;
    noLotsLeft: string;
    newLotTitle: string;
    newProduct: string;
    newQuantity: string;
    mergeSave: string;
    mergeNone: string;
    takeMissing: string;
    takeTooMuch: (left: string) => string;
    sameUnit: (unit: string) => string;
    mergeTooMuch: (total: string) => string;
    mergeTooSmall: string;
    mergeDoneTitle: string;
    mergeDoneText: string;
    madeFrom: string;
    payoutsLink: string;
    payoutsTitle: string;
    payoutsIntro: string;
    nobodyOwed: string;
    owedCount: Counted;
    payOne: (name: string) => string;
    payAll: string;
    paidTitle: Counted;
    paidText: string;
    alreadyPaid: (name: string) => string;
    releaseTitle: string;
    releaseIntro: string;
    releaseNone: string;
    releaseButton: string;
    saleOf: (sale: string, price: string) => string;
    windowEnded: (date: string) => string;
    releasedTitle: (sale: string) => string;
    releasedText: string;
    alreadyReleased: string;
    payNow: string;
    cardPdf: string;
    cardScan: string;
    cardFor: (name: string) => string;
  };

  /** The arbiter's dispute pages and the auditor's lists (issue 12). */
  roles3: {
    openDisputes: string;
    disputesTitle: string;
    disputesIntro: string;
    disputeCount: Counted;
    noDisputes: string;
    saleTitle: (sale: string) => string;
    cooperative: string;
    buyer: string;
    buyerUnknown: string;
    price: string;
    disputedOn: string;
    openResolve: string;
    resolveTitle: string;
    resolveIntro: string;
    refundPercent: string;
    refundHint: string;
    refundBad: string;
    resolve: string;
    notDisputedTitle: string;
    notDisputed: (state: string) => string;
    resolvedTitle: string;
    buyerGets: (amount: string) => string;
    cooperativeGets: (amount: string) => string;
    resolvedText: string;
    pending: string;
    lookAgain: string;
    backToDisputes: string;
    auditCooperatives: string;
    noCooperatives: string;
    auditSales: string;
    auditSaleCount: Counted;
    noSales: string;
    nextSales: string;
    previousSales: string;
    byNumber: string;
    downloads: string;
    saleCsv: string;
    salePack: string;
    cooperativeCsv: string;
  };

  /** Money in dirhams (issue 13): the manager pays members and records it; each member answers. */
  payouts: {
    // ---- the manager ----
    managerLink: string;
    managerTitle: string;
    managerIntro: string;
    dueCount: Counted;
    noRows: string;
    /** Her shares of sales and premiums. */
    entitled: string;
    paid: string;
    confirmed: string;
    contested: string;
    outstanding: string;
    /** Shown instead of "still to pay" when advances exceed her shares. */
    advanceNotCovered: string;
    nothingDue: string;
    /** The checkbox of one member's payment. */
    pick: (name: string) => string;
    amount: string;
    amountHint: string;
    /** A euro share, prefilled in dirhams at the reference rate: `rate` is "1 EUR = 10,85 MAD". */
    amountAtRate: (rate: string, date: string) => string;
    noRate: (currency: string) => string;
    method: string;
    methods: { bank: string; mwallet: string; cash: string };
    purpose: string;
    purposes: {
      saleShare: string;
      advance: string;
      instalment: string;
      premium: string;
      womensPremium: string;
      qualityPremium: string;
    };
    reference: string;
    referenceHint: string;
    record: string;
    pickNone: string;
    amountInvalid: string;
    referenceRequired: string;
    duplicate: string;
    recordedTitle: Counted;
    recordedText: string;
    backToPay: string;
    accountTitle: string;
    accountOwn: string;
    accountOther: string;
    accountNone: string;
    accountChange: string;
    accountQuestion: string;
    accountExplain: string;
    accountField: string;
    accountHint: string;
    accountSave: string;
    accountDone: string;
    accountDoneText: string;
    listTitle: string;
    noPayouts: string;
    statuses: { recorded: string; confirmed: string; contested: string };
    // ---- the member ----
    memberLink: string;
    memberTitle: string;
    memberIntro: string;
    yourShare: string;
    paidYou: string;
    stillToCome: string;
    advanceAhead: string;
    toAnswerCount: Counted;
    /** The method inside a sentence ("by M-Wallet"). */
    by: { bank: string; mwallet: string; cash: string };
    paidQuestion: (amount: string, by: string, date: string) => string;
    forWhat: (purpose: string) => string;
    yes: string;
    no: string;
    saidYes: (amount: string, by: string, date: string) => string;
    saidNo: (amount: string, by: string, date: string) => string;
    noPayoutsYet: string;
    routeYes: string;
    routeNo: string;
    routeChange: string;
    routeQuestion: string;
    routeExplain: string;
    routeYesLabel: string;
    routeNoLabel: string;
    routeNoAccount: string;
    routeChoose: string;
    routeSave: string;
    routeDoneYes: string;
    routeDoneNo: string;
    confirmedTitle: string;
    confirmedText: string;
    contestQuestion: string;
    contestIntro: (amount: string, by: string, date: string) => string;
    reason: string;
    reasonHint: string;
    contestSend: string;
    contestedTitle: string;
    contestedText: string;
    closeTitle: string;
    closeIntro: string;
    closeLink: (lot: string) => string;
    closeQuestion: (lot: string) => string;
    closeExplain: string;
    closeButton: string;
    closedTitle: (lot: string) => string;
    roundedOff: (amount: string) => string;
    noRoundedOff: string;
    backToMoney: string;
  };

  /** The verify page for people first (issue 14): the money in words, and one "check it yourself" section. */
  plain: {
    /** The short banner: checked at a time (words, no chain id or block). */
    checked: (time: string) => string;
    sharedTitle: string;
    lotTitle: string;
    /** "Of each 100 dirhams paid, 89 went to the 4 women who worked on this lot." */
    perHundred: (hundred: string, share: string, who: string) => string;
    /** The same where the currency has no name (a test token): in percent. */
    perCent: (percent: string, who: string) => string;
    /** Who did the work, counted (with the preposition the sentence needs): a women's cooperative's members are women. */
    womenWho: Counted;
    membersWho: Counted;
    /** What the cooperative kept for its reserve and what the platform took, as shares of 100. */
    rest: (reserve: string, platform: string) => string;
    noPaymentYet: string;
    /** A lot with no payment of its own that went into other lots (a harvest distilled into rose water). */
    madeIntoOthers: string;
    certifiedBy: (name: string) => string;
    checkIntro: (network: string, time: string) => string;
    checkedUpTo: (block: string, chain: string) => string;
    demoNetwork: string;
    demoNote: string;
    numberedNetwork: (chain: string) => string;
    factsTitle: Counted;
    factRegistered: string;
    factCooperative: string;
    factCertified: (scheme: string) => string;
    factRevoked: (scheme: string) => string;
    factLineage: string;
    factSale: (sale: string, step: string) => string;
    onExplorer: string;
    commandWithRpc: string;
    commandWithoutRpc: (network: string) => string;
  };

  session: {
    formRefusedTitle: string;
    formRefusedText: string;
    rateLimitedTitle: string;
    rateLimitedText: Counted;
    signOutText: string;
    signedOut: string;
  };

  /**
   * The words this language uses for CoopTrace's things, chosen once and reused by every message of the
   * header, the home page and the workspace (a reader meets one word for one thing).
   */
  glossary: {
    cooperative: string;
    member: string;
    manager: string;
    lot: string;
    card: string;
    pin: string;
    token: string;
  };

  /** The header of every page. */
  nav: {
    /** The name of the main navigation, for screen readers. */
    menu: string;
    market: string;
    cooperatives: string;
    stats: string;
    signIn: string;
    signOut: string;
    /** The signed-in user's own space (/w). */
    workspace: string;
    audit: string;
    /** For screen readers, before the signed-in user's name. */
    signedInAs: string;
  };

  /** The home page (/) and its product search. */
  home: {
    title: string;
    lead: string;
    /** What happens, in three plain sentences. */
    points: string[];
    findTitle: string;
    findText: string;
    lot: string;
    lotHint: string;
    gtin: string;
    gtinHint: string;
    find: string;
    errorSummary: string;
    enterOne: string;
    badLot: string;
    badGtin: string;
    nothing: string;
    /** Several lots match: the list that follows. */
    several: Counted;
    exploreTitle: string;
    marketText: string;
    cooperativesText: string;
    statsText: string;
    signInText: string;
  };

  /** The public list of cooperatives (/cooperatives). */
  directory: {
    title: string;
    intro: string;
    none: string;
    count: Counted;
    members: Counted;
  };

  /** Sign-in (/signin): a token for staff and buyers; members are sent to their card. */
  signin: {
    title: string;
    memberTitle: string;
    memberText: string;
    tokenTitle: string;
    tokenText: string;
    token: string;
    /** Followed by the tokens' prefix (ct_), written left to right in every language. */
    tokenHint: string;
    submit: string;
    missingToken: string;
    badToken: string;
  };

  /** A member card's page (/c/<card>): the PIN. */
  card: {
    title: string;
    whose: string;
    pin: string;
    pinHint: string;
    submit: string;
    badFormat: string;
    /** A wrong PIN, and how many tries are left (at least 1). */
    wrongPin: Counted;
    lockedTitle: string;
    lockedText: string;
    revokedTitle: string;
    revokedText: string;
    notFoundTitle: string;
    notFoundText: string;
    secret: string;
  };

  /** The signed-in home (/w). */
  workspace: {
    title: string;
    hello: (name: string) => string;
    role: string;
    roles: Record<Role, string>;
    cooperative: string;
    /** The user belongs to no cooperative the index knows (yet). */
    noCooperative: string;
    moneyTitle: string;
    moneyIntro: string;
    noMoney: string;
    earned: string;
    paid: string;
    due: string;
    /** Her part of a lot, as a percentage already formatted. */
    part: (pct: string) => string;
    membersTitle: string;
    memberCount: Counted;
    noMembers: string;
    unnamed: string;
    batchesTitle: string;
    batchCount: Counted;
    noBatches: string;
    available: (quantity: string) => string;
    seePage: string;
    auditText: string;
    openAudit: string;
    elsewhereTitle: string;
  };

  /** The words a printed label carries besides the catalog's names (server/labels/words.ts). */
  labelPrint: {
    scanToVerify: string;
  };

  units: Record<string, string>;
  products: Record<string, string>;
}
