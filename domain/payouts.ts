/**
 * Payouts members receive in dirhams from their cooperative, and the reconciliation of what each
 * was entitled to (her shares of released sales, on-chain) with what the cooperative says it paid
 * and what she confirmed (contracts/PayoutLedger.sol). The audit, the verifier, the pages and the
 * tests all reconcile with this one function.
 */

/** Why the money was paid: the order of IPayoutLedger.Purpose. */
export const PAYOUT_PURPOSES = [
  "saleShare",
  "advance",
  "instalment",
  "premium",
  "womensPremium",
  "qualityPremium",
] as const;
export type PayoutPurpose = (typeof PAYOUT_PURPOSES)[number];

/** How the money was paid: the order of IPayoutLedger.Method. */
export const PAYOUT_METHODS = ["bank", "mwallet", "cash"] as const;
export type PayoutMethod = (typeof PAYOUT_METHODS)[number];

/** A payout's status: the order of IPayoutLedger.Status (None is never shown). */
export const PAYOUT_STATUSES = ["none", "recorded", "confirmed", "contested"] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

const PREMIUMS: ReadonlySet<PayoutPurpose> = new Set(["premium", "womensPremium", "qualityPremium"]);

/** A premium is decided by the cooperative: it adds to what the member is entitled to as it is paid. */
export function isPremium(purpose: PayoutPurpose): boolean {
  return PREMIUMS.has(purpose);
}

export interface PayoutFact {
  member: string;
  token: string;
  tokenAmount: bigint;
  dirhams: bigint;
  purpose: PayoutPurpose;
  status: PayoutStatus;
}

export interface EntitlementFact {
  member: string;
  token: string;
  /** Her share of what was released, in the token's smallest unit. */
  amount: bigint;
}

/** One member's account in one settlement token, all amounts in the token's smallest unit (dirhams in centimes). */
export interface MemberReconciliation {
  member: string;
  token: string;
  /** Her shares of released sales. */
  shares: bigint;
  /** Premiums the cooperative paid her and she did not contest (they add to what she is entitled to). */
  premiums: bigint;
  /** shares + premiums. */
  entitled: bigint;
  /**
   * What the cooperative paid her and she did not contest (advances included): confirmed + unanswered.
   * A contested payout is not counted as paid until the cooperative records it again as it was paid.
   */
  paid: bigint;
  /** Of `paid`, advances. */
  advances: bigint;
  /** Of `paid`, what she confirmed receiving. */
  confirmed: bigint;
  /** Recorded by the cooperative but contested by her: not in `paid`. */
  contested: bigint;
  /** Of `paid`, what she has not answered yet. */
  unanswered: bigint;
  /** entitled − paid: negative when advances exceed her shares so far (she owes it from later shares). */
  outstanding: bigint;
  /** Dirhams handed over and not contested (centimes), and of them confirmed. */
  paidDirhams: bigint;
  confirmedDirhams: bigint;
  payouts: number;
}

function keyOf(member: string, token: string): string {
  return `${member.toLowerCase()}|${token.toLowerCase()}`;
}

function empty(member: string, token: string): MemberReconciliation {
  return {
    member,
    token,
    shares: 0n,
    premiums: 0n,
    entitled: 0n,
    paid: 0n,
    advances: 0n,
    confirmed: 0n,
    contested: 0n,
    unanswered: 0n,
    outstanding: 0n,
    paidDirhams: 0n,
    confirmedDirhams: 0n,
    payouts: 0,
  };
}

/**
 * Reconciles entitlements with payouts, per (member, token), sorted by member then token. Exact
 * integer arithmetic: the figures match the chain to the smallest unit.
 */
export function reconcile(entitlements: EntitlementFact[], payouts: PayoutFact[]): MemberReconciliation[] {
  const rows = new Map<string, MemberReconciliation>();
  const row = (member: string, token: string): MemberReconciliation => {
    const key = keyOf(member, token);
    let r = rows.get(key);
    if (r === undefined) rows.set(key, (r = empty(member, token)));
    return r;
  };
  for (const e of entitlements) row(e.member, e.token).shares += e.amount;
  for (const p of payouts) {
    const r = row(p.member, p.token);
    r.payouts += 1;
    // Contested: she says it was not paid as recorded; it counts neither as paid nor as a premium.
    if (p.status === "contested") {
      r.contested += p.tokenAmount;
      continue;
    }
    r.paid += p.tokenAmount;
    r.paidDirhams += p.dirhams;
    if (isPremium(p.purpose)) r.premiums += p.tokenAmount;
    if (p.purpose === "advance") r.advances += p.tokenAmount;
    if (p.status === "confirmed") {
      r.confirmed += p.tokenAmount;
      r.confirmedDirhams += p.dirhams;
    } else r.unanswered += p.tokenAmount;
  }
  for (const r of rows.values()) {
    r.entitled = r.shares + r.premiums;
    r.outstanding = r.entitled - r.paid;
  }
  return [...rows.values()].sort((a, b) =>
    a.member === b.member
      ? a.token.localeCompare(b.token)
      : a.member.toLowerCase().localeCompare(b.member.toLowerCase()),
  );
}

/** The sum of member rows in one token (a cooperative's account). */
export function totalOf(rows: MemberReconciliation[], token: string): MemberReconciliation {
  const t = empty("*", token);
  for (const r of rows) {
    if (r.token.toLowerCase() !== token.toLowerCase()) continue;
    for (const k of [
      "shares",
      "premiums",
      "entitled",
      "paid",
      "advances",
      "confirmed",
      "contested",
      "unanswered",
      "outstanding",
      "paidDirhams",
      "confirmedDirhams",
    ] as const) {
      t[k] += r[k];
    }
    t.payouts += r.payouts;
  }
  return t;
}
