/**
 * Money in dirhams (issue 13): the cooperative's payout account, a member's choice to be paid through
 * it, the payouts the cooperative records (what, how, in dirhams, at which rate) and each member's own
 * confirmation or contest, the platform's reference rates, the closing of a batch's accounts, and the
 * reconciliation of what each member was entitled to (her shares of released sales, on-chain) with
 * what she was paid and confirmed (domain/payouts.ts). Members' and managers' writes go through the
 * Writer (their custodial signature, relayed); the reference rate is the platform's own transaction.
 * Called by the API and the workspace alike: input is the parsed output of the schemas below.
 */
import { encodeAbiParameters, keccak256, stringToBytes, toHex, type Hex } from "viem";
import { z } from "zod";
import {
  isPremium,
  PAYOUT_METHODS,
  PAYOUT_PURPOSES,
  reconcile,
  totalOf,
  type MemberReconciliation,
  type PayoutFact,
} from "../../domain/payouts";
import { packContributor } from "../../domain/contributors";
import { toDecimalString } from "../../domain/money";
import { shareOf } from "../../domain/split";
import { payoutLedgerAbi, saleEscrowAbi } from "../chain/abis.generated";
import { toAddress, ZERO_ADDRESS, ZERO_HASH } from "../chain/address";
import { encodeCall } from "../chain/calldata";
import type { ChainClient } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import type { User, UserStore } from "../custody/users";
import type { Indexer, Queries } from "../index";
import { entitlementsOf, type PayoutQueries, type PayoutRecord, type ReferenceRate } from "../index/payoutQueries";
import { toCsv } from "../audit/csv";
import { requireCoopActor, requireCoopAdmin, requireRole } from "./access";
import type { CsvFile } from "./audit";
import { DomainError, forbidden, invalidField, notFound } from "./errors";
import { allPages } from "./sales";
import { address, bytesText, id, text, uint } from "./schemas";
import type { ChainAccount } from "./users";
import type { WriteOptions, Writer, WriteOutcome } from "./writes";

/** A positive decimal written with at most `places` decimals, in units of 10^-places (exact, no float). */
function positiveDecimal(places: number, wholeDigits: number, message: string) {
  return z
    .string()
    .regex(new RegExp(`^(0|[1-9][0-9]{0,${wholeDigits - 1}})(\\.[0-9]{1,${places}})?$`), message)
    .transform((s) => {
      const [whole, fraction = ""] = s.split(".");
      return BigInt(whole) * 10n ** BigInt(places) + BigInt(fraction.padEnd(places, "0"));
    })
    .refine((v) => v > 0n, "must be more than zero");
}

/** An amount in dirhams as people write it ("1250", "1250.5", "1250.00"), in centimes. */
export const dirhams = positiveDecimal(2, 13, "must be an amount in dirhams, like 1250.00");

/** Dirhams per unit of a currency ("10.8345"), × 10⁶ as the ledger keeps it. */
export const rate = positiveDecimal(6, 7, "must be dirhams per unit, like 10.8345 (at most 6 decimals)");

export const payoutAccountInput = z.object({ account: address }).strict();
export type PayoutAccountInput = z.output<typeof payoutAccountInput>;

export const payoutRouteInput = z
  .object({
    throughCooperative: z.boolean(),
    /** Her cooperative when omitted. */
    cooperativeId: id.optional(),
  })
  .strict();
export type PayoutRouteInput = z.output<typeof payoutRouteInput>;

export const payoutInput = z
  .object({
    member: address,
    /** The dirhams handed over. */
    amount: dirhams,
    /** The settlement token whose entitlement it settles. */
    token: address,
    /** In the token's smallest unit: derived for a dirham token, required for another currency. */
    tokenAmount: uint(128, 1n).optional(),
    /** The rate used for another currency; the latest reference rate when omitted. */
    rate: rate.optional(),
    purpose: z.enum(PAYOUT_PURPOSES).default("saleShare"),
    method: z.enum(PAYOUT_METHODS),
    /** The payment's reference (bank or M-Wallet transaction, receipt number): only its hash goes on-chain. */
    reference: text(200),
  })
  .strict();
export const recordPayoutsInput = z.object({ payouts: z.array(payoutInput).min(1).max(50) }).strict();
export type RecordPayoutsInput = z.output<typeof recordPayoutsInput>;

export const contestPayoutInput = z.object({ reason: text(1000).optional() }).strict();
export type ContestPayoutInput = z.output<typeof contestPayoutInput>;

export const referenceRateInput = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code, like EUR"),
    rate,
    asOf: z.iso.date().transform((d) => BigInt(Math.floor(Date.parse(d) / 1000))),
    source: bytesText(64),
  })
  .strict();
export type ReferenceRateInput = z.output<typeof referenceRateInput>;

export const payoutListInput = z.object({ member: address.optional() }).strict();

/** A token's currency as people read it: the settlement token's, ETH for the zero address, else null. */
export interface TokenCurrency {
  token: string;
  currency: string | null;
  decimals: number | null;
}

export type ReconciliationRow = Omit<Record<keyof MemberReconciliation, string>, "payouts"> & {
  payouts: number;
  displayName: string | null;
  throughCooperative: boolean;
};

export interface Reconciliation {
  cooperativeId: number;
  name: string;
  payoutAccount: string | null;
  tokens: (TokenCurrency & { totals: ReconciliationRow })[];
  members: (ReconciliationRow & TokenCurrency)[];
}

export interface MemberMoney {
  member: string;
  cooperatives: {
    cooperativeId: number;
    name: string | null;
    throughCooperative: boolean;
    payoutAccount: string | null;
    rows: (ReconciliationRow & TokenCurrency)[];
  }[];
  payouts: (PayoutRecord & TokenCurrency)[];
}

export interface PayoutService {
  setPayoutAccount(
    actor: User | undefined,
    cooperativeId: number,
    input: PayoutAccountInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome }>;
  choosePaidThroughCooperative(
    actor: User | undefined,
    input: PayoutRouteInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; cooperativeId: number }>;
  recordPayouts(
    actor: User | undefined,
    cooperativeId: number,
    input: RecordPayoutsInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; payoutIds: string[] }>;
  confirm(actor: User | undefined, payoutId: string, options?: WriteOptions): Promise<{ outcome: WriteOutcome }>;
  contest(
    actor: User | undefined,
    payoutId: string,
    input: ContestPayoutInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome }>;
  setReferenceRate(
    actor: User | undefined,
    input: ReferenceRateInput,
  ): Promise<{ status: "mined"; txHash: string; blockNumber: number; currency: string; rateE6: string; asOf: string }>;
  closeBatch(
    actor: User | undefined,
    batchId: string,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; saleIds: number[]; roundedOff: { token: string; amount: string }[] }>;
  /** The payouts of a cooperative (its admin, auditors, the platform admin; a member sees hers only). */
  payoutsOf(actor: User | undefined, cooperativeId: number, member?: string): (PayoutRecord & TokenCurrency)[];
  reconciliation(actor: User | undefined, cooperativeId: number): Reconciliation;
  reconciliationCsv(actor: User | undefined, cooperativeId: number): CsvFile;
  /** The caller's money: her account per cooperative and token, her payouts, her route. */
  memberMoney(actor: User | undefined): MemberMoney;
  /**
   * Public and naming nobody (the verify page): of these accounts (a lot's contributors), how many
   * confirmed being paid their share of this lot, how many contest a payout, and what remains to be
   * paid to them of this lot's shares, per token of this lot's sales only.
   */
  lotSummary(cooperativeId: number, batchId: string, accounts: readonly string[]): LotPayouts;
  /** The reference rate of a currency recorded last (public: the platform publishes it on-chain). */
  latestRate(currency: string): ReferenceRate | null;
  /** The batches of a cooperative whose accounts are closed (public, as on-chain). */
  closedBatches(cooperativeId: number): string[];
}

/**
 * A lot's members and their pay. The ledger records what a member was paid in a token, not for which
 * lot: her payouts (not contested, premiums aside: they add to what she is owed as they are paid) are
 * counted against her shares oldest lot first, and what is left of this lot's share is still due.
 */
export interface LotPayouts {
  members: number;
  /** Members whose share of this lot, in every token it was sold in, is covered by payouts she confirmed. */
  confirmed: number;
  /** Members of the lot who contest a payout recorded for them in a token of this lot's sales. */
  contested: number;
  /** Σ over the lot's members of (her share of this lot − what of it was paid), per token of this lot. */
  outstanding: (TokenCurrency & { amount: string })[];
}

/** Of `pool`, what reaches `batchId` when it is spent on `shares` in their order (oldest lot first). */
function allocatedTo(pool: bigint, shares: { batchId: string; amount: bigint }[], batchId: string): bigint {
  for (const s of shares) {
    const take = pool < s.amount ? pool : s.amount;
    if (s.batchId.toLowerCase() === batchId.toLowerCase()) return take;
    pool -= take;
  }
  return 0n;
}

export interface PayoutServiceDeps {
  users: Pick<UserStore, "findByAddress">;
  queries: Queries;
  payouts: PayoutQueries;
  writer: Writer;
  indexer: Pick<Indexer, "waitForBlock">;
  deployment: DeploymentFile;
  /** The platform's own account (DEPLOYER_KEY): reference rates. Undefined: 503 platform_key_missing. */
  platform: ChainAccount | undefined;
  client: Pick<ChainClient, "getTransactionReceipt">;
}

/** The hash of a payment reference or a contest reason: keccak256 of its UTF-8 text. */
export const textHash = (s: string): string => keccak256(stringToBytes(s));

/** The ledger's payout id: keccak256(abi.encode(cooperativeId, member, referenceHash)). */
export function payoutIdOf(cooperativeId: number, member: string, referenceHash: string): string {
  return keccak256(
    encodeAbiParameters(
      [{ type: "uint64" }, { type: "address" }, { type: "bytes32" }],
      [BigInt(cooperativeId), member as Hex, referenceHash as Hex],
    ),
  );
}

/** The currency of a token, from the settlement tokens the index followed. */
function currencyOf(payouts: PayoutQueries, token: string): TokenCurrency {
  if (token.toLowerCase() === ZERO_ADDRESS) return { token, currency: "ETH", decimals: 18 };
  const t = payouts.settlementToken(token);
  return { token, currency: t?.currency ?? null, decimals: t?.decimals ?? null };
}

function rowJson(r: MemberReconciliation): Omit<ReconciliationRow, "displayName" | "throughCooperative"> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === "bigint" ? v.toString() : v;
  return out as Omit<ReconciliationRow, "displayName" | "throughCooperative">;
}

const factOf = (p: PayoutRecord): PayoutFact => ({
  member: p.member,
  token: p.token,
  tokenAmount: BigInt(p.tokenAmount),
  dirhams: BigInt(p.dirhams),
  purpose: p.purpose,
  status: p.status,
});

/** The token amount and rate of one payout input, checked against its token's currency. */
function tokenTerms(
  payouts: PayoutQueries,
  p: RecordPayoutsInput["payouts"][number],
  field: string,
): { tokenAmount: bigint; rateE6: bigint } {
  const token = payouts.settlementToken(p.token);
  if (token === null) {
    throw invalidField(
      `${field}.token`,
      "is not a settlement token (allowed with its currency)",
      "not_a_settlement_token",
    );
  }
  if (token.currency === "MAD") {
    const units = token.decimals >= 2 ? p.amount * 10n ** BigInt(token.decimals - 2) : p.amount;
    if (p.tokenAmount !== undefined && p.tokenAmount !== units) {
      throw invalidField(`${field}.tokenAmount`, `must be ${units}: the amount in dirhams in the token's units`);
    }
    return { tokenAmount: units, rateE6: 0n };
  }
  if (p.tokenAmount === undefined) {
    throw invalidField(`${field}.tokenAmount`, `is required for a token in ${token.currency}`);
  }
  const rateE6 = p.rate ?? BigInt(payouts.latestRate(token.currency)?.rateE6 ?? 0);
  if (rateE6 === 0n) {
    throw invalidField(
      `${field}.rate`,
      `no reference rate for ${token.currency}: give the rate used`,
      "no_reference_rate",
    );
  }
  return { tokenAmount: p.tokenAmount, rateE6 };
}

/**
 * What each member is still owed per token (her outstanding balance, contested payouts not counted as
 * paid), drawn down as the payouts of one request are checked: a share or instalment above it is
 * refused (422 payout_exceeds_owed, naming what she is owed); money paid ahead of her shares must be
 * recorded as an advance, and a premium adds to what she is owed.
 */
function owedIn(deps: PayoutServiceDeps, cooperativeId: number) {
  const left = new Map<string, bigint>();
  const key = (member: string, token: string) => `${member.toLowerCase()}|${token.toLowerCase()}`;
  return {
    take(member: string, token: string, amount: bigint, field: string): void {
      const k = key(member, token);
      let owed = left.get(k);
      if (owed === undefined) {
        const facts = deps.payouts.payouts({ cooperativeId, member }).map(factOf);
        const rows = reconcile(entitlementsOf(deps.queries, [member], cooperativeId), facts);
        const row = rows.find((r) => r.token.toLowerCase() === token.toLowerCase());
        owed = row === undefined || row.outstanding < 0n ? 0n : row.outstanding;
      }
      if (amount > owed) {
        const t = currencyOf(deps.payouts, token);
        const decimal = t.decimals === null ? owed.toString() : toDecimalString(owed, t.decimals);
        const said = `${decimal} ${t.currency ?? token}`;
        const message =
          `is more than this member is still owed (${said}): pay at most that, ` +
          `or record the payment as an advance (purpose "advance")`;
        throw new DomainError("rejected", "payout_exceeds_owed", `${field}.amount: ${message}`, {
          errors: [{ field: `${field}.amount`, message }],
          owed: { member, token, currency: t.currency, decimals: t.decimals, amount: owed.toString(), decimal },
        });
      }
      left.set(k, owed - amount);
    },
  };
}

/** The payout a member answers: hers, recorded, not yet confirmed. */
function answerable(deps: PayoutServiceDeps, actor: User | undefined, payoutId: string, contest: boolean) {
  const user = requireRole(actor, "member", "coop_admin");
  const payout = deps.payouts.payout(payoutId);
  if (payout === null) throw notFound("payout_not_found", `no payout ${payoutId}`);
  if (user.address === null || user.address.toLowerCase() !== payout.member.toLowerCase()) {
    throw forbidden("this payout is not yours: only the member it names may answer it", "not_your_payout");
  }
  if (payout.status === "confirmed") {
    throw new DomainError("conflict", "payout_already_confirmed", "this payout is already confirmed (final)");
  }
  if (contest && payout.status === "contested") {
    throw new DomainError("conflict", "payout_already_contested", "this payout is already contested");
  }
  return user;
}

/** The writes: the manager's, the member's and the platform's. */
function payoutWrites(deps: PayoutServiceDeps) {
  const { queries, payouts, writer } = deps;
  const escrow = deps.deployment.contracts.SaleEscrow.address;
  const ledger = deps.deployment.contracts.PayoutLedger.address;

  return {
    async setPayoutAccount(
      actor: User | undefined,
      cooperativeId: number,
      input: PayoutAccountInput,
      options?: WriteOptions,
    ) {
      const admin = requireCoopAdmin(queries, actor, cooperativeId);
      const data = encodeCall(saleEscrowAbi, "setPayoutAccount", [cooperativeId, input.account]);
      return { outcome: await writer.write(admin, { to: escrow, data }, options) };
    },

    async choosePaidThroughCooperative(actor: User | undefined, input: PayoutRouteInput, options?: WriteOptions) {
      const member = requireRole(actor, "member");
      const cooperativeId = input.cooperativeId ?? member.cooperativeId;
      if (cooperativeId === null) throw invalidField("cooperativeId", "is required: you belong to no cooperative");
      requireCoopActor(queries, member, cooperativeId);
      if (input.throughCooperative && payouts.payoutAccount(cooperativeId) === null) {
        throw new DomainError("conflict", "no_payout_account", "the cooperative has no payout account yet");
      }
      const data = encodeCall(saleEscrowAbi, "setPaidThroughCooperative", [cooperativeId, input.throughCooperative]);
      return { outcome: await writer.write(member, { to: escrow, data }, options), cooperativeId };
    },

    async recordPayouts(
      actor: User | undefined,
      cooperativeId: number,
      input: RecordPayoutsInput,
      options?: WriteOptions,
    ) {
      const admin = requireCoopAdmin(queries, actor, cooperativeId);
      const members = new Set(queries.listMembers(cooperativeId).map((m) => m.account.toLowerCase()));
      const seen = new Set<string>();
      const owed = owedIn(deps, cooperativeId);
      const records = input.payouts.map((p, i) => {
        const field = `payouts.${i}`;
        if (!members.has(p.member.toLowerCase())) {
          throw invalidField(`${field}.member`, "is not a member of this cooperative", "not_a_member");
        }
        const { tokenAmount, rateE6 } = tokenTerms(payouts, p, field);
        if (!isPremium(p.purpose) && p.purpose !== "advance") owed.take(p.member, p.token, tokenAmount, field);
        const referenceHash = textHash(p.reference);
        const payoutId = payoutIdOf(cooperativeId, p.member, referenceHash);
        // Refused before sending: the ledger would refuse it too, with a less telling revert.
        if (seen.has(payoutId) || payouts.payout(payoutId) !== null) {
          throw new DomainError(
            "conflict",
            "payout_duplicate",
            `${field}: this payment (member and reference) is already recorded`,
            {
              payoutId,
            },
          );
        }
        seen.add(payoutId);
        const record = {
          member: p.member,
          token: p.token,
          tokenAmount,
          dirhams: p.amount,
          rateE6,
          purpose: PAYOUT_PURPOSES.indexOf(p.purpose),
          method: PAYOUT_METHODS.indexOf(p.method),
          referenceHash,
        };
        return { payoutId, record };
      });
      const data = encodeCall(payoutLedgerAbi, "recordPayouts", [cooperativeId, records.map((r) => r.record)]);
      const outcome = await writer.write(admin, { to: ledger, data }, options);
      return { outcome, payoutIds: records.map((r) => r.payoutId) };
    },

    async confirm(actor: User | undefined, payoutId: string, options?: WriteOptions) {
      const member = answerable(deps, actor, payoutId, false);
      const data = encodeCall(payoutLedgerAbi, "confirm", [payoutId]);
      return { outcome: await writer.write(member, { to: ledger, data }, options) };
    },

    async contest(actor: User | undefined, payoutId: string, input: ContestPayoutInput, options?: WriteOptions) {
      const member = answerable(deps, actor, payoutId, true);
      const reasonHash = input.reason === undefined ? ZERO_HASH : textHash(input.reason);
      const data = encodeCall(payoutLedgerAbi, "contest", [payoutId, reasonHash]);
      return { outcome: await writer.write(member, { to: ledger, data }, options) };
    },

    async setReferenceRate(actor: User | undefined, input: ReferenceRateInput) {
      requireRole(actor, "platform_admin");
      const platform = deps.platform;
      if (platform === undefined) {
        throw new DomainError("unavailable", "platform_key_missing", "the gateway has no platform key (DEPLOYER_KEY)");
      }
      const data = encodeCall(payoutLedgerAbi, "setReferenceRate", [
        toHex(input.currency, { size: 3 }),
        input.rate,
        input.asOf,
        input.source,
      ]);
      const sent = await platform.sendTransaction({ to: ledger, data });
      await sent.wait();
      const receipt = await deps.client.getTransactionReceipt(sent.hash);
      if (receipt !== null) await deps.indexer.waitForBlock(receipt.blockNumber, 5_000);
      return {
        status: "mined" as const,
        txHash: sent.hash,
        blockNumber: receipt?.blockNumber ?? 0,
        currency: input.currency,
        rateE6: input.rate.toString(),
        asOf: input.asOf.toString(),
      };
    },

    async closeBatch(actor: User | undefined, batchId: string, options?: WriteOptions) {
      const batch = queries.getBatch(batchId);
      if (!batch) throw notFound("batch_not_found", `no batch ${batchId}`);
      const admin = requireCoopAdmin(queries, actor, Number(batch.cooperativeId));
      if (payouts.batchClosures(Number(batch.cooperativeId)).some((c) => c.batchId === batch.batchId)) {
        throw new DomainError("conflict", "batch_closed", "this batch's accounts are already closed");
      }
      // Every sale of the batch, ascending, and its whole contributor list as registered (the contract checks both).
      const saleIds = allPages((p) => queries.listSales({ ...p, batchId: batch.batchId }))
        .map((s) => s.saleId)
        .sort((a, b) => a - b);
      // As packed words (account index << 64 | weight), in the emitted order (ascending index).
      const contributors = batch.contributors.map((c) =>
        packContributor(queries.accountIndexOf(c.account) ?? 0, BigInt(c.weight)),
      );
      const data = encodeCall(saleEscrowAbi, "closeBatch", [batch.batchId, saleIds, contributors]);
      const outcome = await writer.write(admin, { to: escrow, data }, options);
      const roundedOff = outcome.events
        .filter((e) => e.name === "BatchClosed")
        .map((e) => ({ token: String(e.args.token), amount: String(e.args.roundedOff) }));
      return { outcome, saleIds, roundedOff };
    },
  };
}

/** The reads: payouts, a cooperative's reconciliation, a member's own money. */
function payoutReads(deps: PayoutServiceDeps) {
  const { queries, payouts, users } = deps;
  const withCurrency = (p: PayoutRecord) => ({ ...p, ...currencyOf(payouts, p.token) });

  function requireReader(actor: User | undefined, cooperativeId: number): User {
    const user = requireRole(actor, "coop_admin", "auditor", "platform_admin");
    if (queries.getCooperative(cooperativeId) === null) {
      throw notFound("cooperative_not_found", `no cooperative ${cooperativeId}`);
    }
    if (user.role === "coop_admin") requireCoopAdmin(queries, user, cooperativeId);
    return user;
  }

  /** Rows of `accounts` in `cooperativeId`, reconciled, with names, routes and currencies. */
  function rowsOf(cooperativeId: number, accounts: readonly string[], member?: string) {
    const facts = payouts.payouts({ cooperativeId, member }).map(factOf);
    const rows = reconcile(entitlementsOf(queries, accounts, cooperativeId), facts);
    const decorated = rows.map((r) => ({
      ...rowJson(r),
      displayName: users.findByAddress(r.member)?.displayName ?? null,
      throughCooperative: payouts.route(cooperativeId, r.member)?.throughCooperative ?? false,
      ...currencyOf(payouts, r.token),
    }));
    return { rows, decorated };
  }

  function reconciliation(actor: User | undefined, cooperativeId: number): Reconciliation {
    requireReader(actor, cooperativeId);
    const coop = queries.getCooperative(cooperativeId)!;
    const { rows, decorated } = rowsOf(cooperativeId, payouts.contributorsOf(cooperativeId));
    const tokens = [...new Set(rows.map((r) => r.token))].sort();
    return {
      cooperativeId,
      name: coop.name,
      payoutAccount: payouts.payoutAccount(cooperativeId)?.account ?? null,
      tokens: tokens.map((token) => ({
        ...currencyOf(payouts, token),
        totals: { ...rowJson(totalOf(rows, token)), displayName: null, throughCooperative: false },
      })),
      members: decorated,
    };
  }

  return {
    payoutsOf(actor: User | undefined, cooperativeId: number, member?: string) {
      const user = requireRole(actor, "coop_admin", "auditor", "platform_admin", "member");
      if (user.role === "member") {
        requireCoopActor(queries, user, cooperativeId);
        return payouts.payouts({ cooperativeId, member: user.address! }).map(withCurrency);
      }
      requireReader(user, cooperativeId);
      return payouts.payouts({ cooperativeId, member }).map(withCurrency);
    },

    reconciliation,

    latestRate: (currency: string) => payouts.latestRate(currency),

    closedBatches: (cooperativeId: number) => [...new Set(payouts.batchClosures(cooperativeId).map((c) => c.batchId))],

    reconciliationCsv(actor: User | undefined, cooperativeId: number): CsvFile {
      const r = reconciliation(actor, cooperativeId);
      return { filename: `cooperative-${cooperativeId}-reconciliation.csv`, csv: reconciliationCsv(r) };
    },

    lotSummary(cooperativeId: number, batchId: string, accounts: readonly string[]): LotPayouts {
      const lot = batchId.toLowerCase();
      const wanted = [...new Map(accounts.map((a) => [a.toLowerCase(), a])).values()];
      const due = new Map<string, bigint>();
      let confirmed = 0;
      let contested = 0;
      for (const account of wanted) {
        // Her shares per batch and token, in the order the batches were registered (oldest first).
        const shares = queries
          .balancesOf(account)
          .filter((b) => b.cooperativeId === cooperativeId)
          .map((b) => ({
            batchId: b.batchId,
            token: b.token.toLowerCase(),
            amount: shareOf(BigInt(b.releasedTotal), BigInt(b.weight), BigInt(b.totalWeight)),
          }));
        const here = shares.filter((s) => s.batchId.toLowerCase() === lot);
        if (here.length === 0) continue;
        const facts = payouts
          .payouts({ cooperativeId, member: account })
          .map(factOf)
          .filter((p) => !isPremium(p.purpose));
        let covered = here.some((s) => s.amount > 0n);
        for (const share of here) {
          const inToken = shares.filter((s) => s.token === share.token);
          const sum = (keep: (p: PayoutFact) => boolean) =>
            facts
              .filter((p) => p.token.toLowerCase() === share.token && keep(p))
              .reduce((a, p) => a + p.tokenAmount, 0n);
          const paid = allocatedTo(
            sum((p) => p.status !== "contested"),
            inToken,
            lot,
          );
          const confirmedHere = allocatedTo(
            sum((p) => p.status === "confirmed"),
            inToken,
            lot,
          );
          if (share.amount > paid) due.set(share.token, (due.get(share.token) ?? 0n) + share.amount - paid);
          if (confirmedHere < share.amount) covered = false;
        }
        if (covered) confirmed += 1;
        const lotTokens = new Set(here.map((s) => s.token));
        if (facts.some((p) => p.status === "contested" && lotTokens.has(p.token.toLowerCase()))) contested += 1;
      }
      return {
        members: wanted.length,
        confirmed,
        contested,
        outstanding: [...due].map(([token, amount]) => ({
          ...currencyOf(payouts, toAddress(token)),
          amount: amount.toString(),
        })),
      };
    },

    memberMoney(actor: User | undefined): MemberMoney {
      const user = requireRole(actor, "member", "coop_admin");
      if (user.address === null) return { member: "", cooperatives: [], payouts: [] };
      const mine = payouts.payouts({ member: user.address });
      const ids = new Set<number>(user.cooperativeId === null ? [] : [user.cooperativeId]);
      for (const b of queries.balancesOf(user.address)) ids.add(b.cooperativeId);
      for (const p of mine) ids.add(p.cooperativeId);
      const cooperatives = [...ids]
        .sort((a, b) => a - b)
        .map((cooperativeId) => ({
          cooperativeId,
          name: queries.getCooperative(cooperativeId)?.name ?? null,
          throughCooperative: payouts.route(cooperativeId, user.address!)?.throughCooperative ?? false,
          payoutAccount: payouts.payoutAccount(cooperativeId)?.account ?? null,
          rows: rowsOf(cooperativeId, [user.address!], user.address!).decorated,
        }));
      return { member: user.address, cooperatives, payouts: mine.map(withCurrency) };
    },
  };
}

const AMOUNT_COLUMNS = ["entitled", "paid", "confirmed", "contested", "outstanding"] as const;

export const RECONCILIATION_COLUMNS = [
  "member",
  "display_name",
  "through_cooperative",
  "token",
  "currency",
  "decimals",
  "shares",
  "premiums",
  "advances",
  "unanswered",
  ...AMOUNT_COLUMNS.flatMap((c) => [c, `${c}_decimal`]),
  "paid_dirhams",
  "confirmed_dirhams",
  "payouts",
] as const;

/** One CSV row per member and token, then the totals per token (member "*"): exact integers, and decimals beside. */
function reconciliationCsv(r: Reconciliation): string {
  const line = (row: ReconciliationRow & TokenCurrency): Record<string, string | number | null> => {
    const out: Record<string, string | number | null> = {
      member: row.member,
      display_name: row.displayName,
      through_cooperative: row.member === "*" ? null : String(row.throughCooperative),
      token: row.token,
      currency: row.currency,
      decimals: row.decimals,
      shares: row.shares,
      premiums: row.premiums,
      advances: row.advances,
      unanswered: row.unanswered,
      paid_dirhams: row.paidDirhams,
      confirmed_dirhams: row.confirmedDirhams,
      payouts: row.payouts,
    };
    for (const c of AMOUNT_COLUMNS) {
      out[c] = row[c];
      out[`${c}_decimal`] = row.decimals === null ? null : toDecimalString(BigInt(row[c]), row.decimals);
    }
    return out;
  };
  const rows = [...r.members.map(line), ...r.tokens.map((t) => line({ ...t.totals, ...t, member: "*" }))];
  return toCsv(RECONCILIATION_COLUMNS, rows);
}

export function createPayoutService(deps: PayoutServiceDeps): PayoutService {
  return { ...payoutWrites(deps), ...payoutReads(deps) };
}
