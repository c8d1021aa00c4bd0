/**
 * Paying members in dirhams, the manager's side (issue 13), mounted by manager/routes.ts:
 *
 * - GET /w/manager/money: per member and currency, her share of sales, what the cooperative paid, what
 *   she confirmed or contested and what is still due (services.payouts.reconciliation: the API's own
 *   figures); a checkbox per member with her payout prefilled (what is still due, in dirhams; a share in
 *   another currency at the latest reference rate, the rate shown); the payouts recorded with each
 *   member's answer; the cooperative's payout account;
 * - POST /w/manager/money/record → services.payouts.recordPayouts for every member ticked, in one write →
 *   303 → what was recorded (on its way while not mined);
 * - GET/POST /w/manager/money/account → setPayoutAccount (his own account by default) → 303 → done.
 *
 * Each row is parsed with the service's own `payoutInput`; its problems go beside the row's fields.
 */
import { dirhamCentimes, toDecimalString } from "../../../domain/money";
import type { PayoutMethod } from "../../../domain/payouts";
import { DomainError } from "../../services/errors";
import { payoutAccountInput, payoutInput, type RecordPayoutsInput } from "../../services/payouts";
import type { Services } from "../../services";
import { allPages } from "../../services/sales";
import { formKey, parseForm, problemsOf, submitForm, writeOnce, type FormOnce } from "../forms";
import { opQuery } from "../progress";
import { doneStore, withLang, type Body } from "../page";
import type { ManagerPage, ManagerRequest } from "../manager/kit";
import type { AmountToken, FieldProblem } from "../views/components";
import {
  accountDonePage,
  accountPage,
  closedPage,
  closePage,
  managerMoneyPage,
  type LotRef,
  recordedPage,
  type DueRow,
  type ManagerMoneyModel,
} from "./managerViews";
import { formatterFor } from "../../pages/format";
import { centimesDecimal, dirhamsText, ltr, typedDirhams } from "./text";

export interface ManagerMoneyDeps {
  services: Pick<Services, "payouts" | "sales" | "batches">;
  once: FormOnce;
  /** A token's currency and decimals, for what rounding left to the reserve. */
  tokenView: (address: string) => Promise<AmountToken>;
}

interface Closed {
  lot: LotRef;
  roundedOff: { amount: bigint; token: AmountToken }[];
  operationId: string | null;
}

/** A sale no longer moving: its money released, resolved or refunded, or the offer cancelled. */
const SETTLED: ReadonlySet<string> = new Set(["Released", "Resolved", "Cancelled", "Refunded"]);

/** The cooperative's lots with sales, all settled, whose accounts are still open (closeBatch would take them). */
function closableLots(services: ManagerMoneyDeps["services"], cooperativeId: number): LotRef[] {
  const closed = new Set(services.payouts.closedBatches(cooperativeId).map((b) => b.toLowerCase()));
  const states = new Map<string, string[]>();
  for (const s of allPages((p) => services.sales.list({ ...p, cooperativeId })))
    states.set(s.batchId, [...(states.get(s.batchId) ?? []), s.state]);
  return [...states]
    .filter(([batchId, st]) => !closed.has(batchId.toLowerCase()) && st.every((x) => SETTLED.has(x)))
    .map(([batchId]) => {
      const b = services.batches.get(batchId);
      return { batchId, productCode: b.productCode, lotCode: b.lotCode };
    });
}

interface Recorded {
  lines: { name: string | null; dirhams: bigint; method: PayoutMethod }[];
  operationId: string | null;
}

/** A row's payout terms: what is due in dirhams (at the latest reference rate for another currency). */
function payTerms(
  c: ManagerRequest["c"],
  services: ManagerMoneyDeps["services"],
  row: { outstanding: bigint; currency: string | null; decimals: number | null },
): DueRow["pay"] {
  const due = row.outstanding > 0n ? row.outstanding : 0n;
  if (row.decimals === null || row.currency === null) return null;
  if (row.currency === "MAD") {
    const centimes = row.decimals >= 2 ? due / 10n ** BigInt(row.decimals - 2) : due * 10n ** BigInt(2 - row.decimals);
    return { prefill: centimes > 0n ? centimesDecimal(centimes) : "", tokenAmount: null, rate: null };
  }
  const rate = services.payouts.latestRate(row.currency);
  if (rate === null || due === 0n) return rate === null ? null : { prefill: "", tokenAmount: null, rate: null };
  const rateE6 = BigInt(rate.rateE6);
  return {
    prefill: centimesDecimal(dirhamCentimes(due, row.decimals, rateE6)),
    tokenAmount: due.toString(),
    rate: {
      decimal: toDecimalString(rateE6, 6),
      // "1 EUR = 10,85 MAD", in the reader's numbers.
      text: `1 ${row.currency} = ${dirhamsText(c, dirhamCentimes(10n ** BigInt(row.decimals), row.decimals, rateE6))}`,
      asOf: Number(rate.asOf),
    },
  };
}

/** The page's figures, from the reconciliation the API answers (the same figures, to the centime). */
function moneyModel(
  deps: ManagerMoneyDeps,
  r: ManagerRequest,
  form: { values?: Body; problems?: FieldProblem[]; once?: string } = {},
): ManagerMoneyModel {
  const { services } = deps;
  const rec = services.payouts.reconciliation(r.user, r.coopId);
  const rows: DueRow[] = rec.members.map((m) => ({
    member: m.member,
    name: m.displayName,
    token: { address: m.token, symbol: m.currency ?? "", decimals: m.decimals, currency: m.currency },
    entitled: BigInt(m.entitled),
    paid: BigInt(m.paid),
    confirmed: BigInt(m.confirmed),
    contested: BigInt(m.contested),
    outstanding: BigInt(m.outstanding),
    pay: payTerms(r.c, services, { outstanding: BigInt(m.outstanding), currency: m.currency, decimals: m.decimals }),
  }));
  const names = new Map(rec.members.map((m) => [m.member.toLowerCase(), m.displayName]));
  const payouts = services.payouts
    .payoutsOf(r.user, r.coopId)
    .reverse()
    .map((p) => ({
      name: names.get(p.member.toLowerCase()) ?? null,
      dirhams: BigInt(p.dirhams),
      method: p.method,
      purpose: p.purpose,
      status: p.status,
      at: p.chain.blockTime,
    }));
  const own = r.user.address;
  return {
    rows,
    payouts,
    closable: closableLots(services, r.coopId),
    account: {
      address: rec.payoutAccount,
      own: rec.payoutAccount !== null && own !== null && rec.payoutAccount.toLowerCase() === own.toLowerCase(),
    },
    csrf: r.csrf,
    once: form.once ?? formKey(),
    values: form.values ?? {},
    problems: form.problems ?? [],
  };
}

/** The rows ticked on the form, each parsed with the service's schema; problems named by the row's fields. */
function parseRows(r: ManagerRequest): {
  picked: number[];
  payouts: RecordPayoutsInput["payouts"];
  problems: FieldProblem[];
} {
  const b = r.body;
  const t = r.c.payouts;
  const picked = Object.keys(b)
    .map((k) => /^pick-([0-9]{1,4})$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null && b[m[0]] === "1")
    .map((m) => Number(m[1]))
    .sort((x, y) => x - y);
  if (picked.length === 0) return { picked, payouts: [], problems: [{ field: "pick-0", message: t.pickNone }] };
  const payouts: RecordPayoutsInput["payouts"] = [];
  const problems: FieldProblem[] = [];
  for (const i of picked) {
    const blank = (k: string) => (b[`${k}-${i}`]?.trim() ? b[`${k}-${i}`]!.trim() : undefined);
    const parsed = parseForm(r.c, payoutInput, {
      member: b[`member-${i}`],
      token: b[`token-${i}`],
      tokenAmount: blank("tokenAmount"),
      rate: blank("rate"),
      amount: typedDirhams(b[`amount-${i}`]),
      method: b[`method-${i}`],
      purpose: b[`purpose-${i}`],
      reference: blank("reference"),
    });
    if (parsed.ok) payouts.push(parsed.data);
    else
      for (const p of parsed.problems) {
        const message =
          p.field === "amount" ? t.amountInvalid : p.field === "reference" ? t.referenceRequired : p.message;
        problems.push({ field: `${p.field}-${i}`, message });
      }
  }
  return { picked, payouts, problems };
}

/** The service's refusal of row k of the write, said beside that row's field. */
function refusedRow(r: ManagerRequest, picked: number[], err: unknown): FieldProblem[] | null {
  if (err instanceof DomainError && err.code === "payout_duplicate") {
    const k = Number(/^payouts\.([0-9]+)/.exec(err.message)?.[1] ?? 0);
    return [{ field: `reference-${picked[k] ?? picked[0]}`, message: r.c.payouts.duplicate }];
  }
  if (err instanceof DomainError && err.code === "payout_exceeds_owed") {
    // Beside the row's amount, in the manager's language, naming what she is still owed.
    const k = Number(/^payouts\.([0-9]+)/.exec(err.message)?.[1] ?? 0);
    const owed = err.extra.owed as { amount: string; currency: string | null; decimals: number | null } | undefined;
    const amount =
      owed === undefined || owed.decimals === null
        ? ""
        : formatterFor(r.c).money(owed.amount, {
            symbol: owed.currency ?? "",
            decimals: owed.decimals,
            currency: owed.currency,
          });
    return [{ field: `amount-${picked[k] ?? picked[0]}`, message: r.c.payouts.exceedsOwed(ltr(amount)) }];
  }
  const fields = problemsOf(err);
  if (fields === null) return null;
  return fields.map((p) => {
    const m = /^payouts-([0-9]+)-([A-Za-z]+)/.exec(p.field);
    return m === null ? p : { field: `${m[2]}-${picked[Number(m[1])] ?? picked[0]}`, message: p.message };
  });
}

export function managerMoneyPages(deps: ManagerMoneyDeps): ManagerPage[] {
  const { services, once } = deps;
  const recorded = doneStore<Recorded>();

  const show = (r: ManagerRequest) => ({ status: 200, view: managerMoneyPage(r.c, moneyModel(deps, r)) });

  const record = (r: ManagerRequest) => {
    const { picked, payouts, problems } = parseRows(r);
    const names = new Map(
      services.payouts.reconciliation(r.user, r.coopId).members.map((m) => [m.member.toLowerCase(), m.displayName]),
    );
    return submitForm(r, once, {
      parsed: { ok: true, data: payouts },
      problems,
      form: (p) => managerMoneyPage(r.c, moneyModel(deps, r, { values: r.body, problems: p, once: r.body.once })),
      refused: (err) => refusedRow(r, picked, err),
      write: async (data) => {
        const res = await services.payouts.recordPayouts(r.user, r.coopId, { payouts: data });
        const key = recorded.put(r.user.id, {
          lines: data.map((p) => ({
            name: names.get(p.member.toLowerCase()) ?? null,
            dirhams: p.amount,
            method: p.method,
          })),
          operationId: res.outcome.status === "mined" ? null : res.outcome.operationId,
        });
        return `/w/manager/money/recorded/${key}`;
      },
    });
  };

  const done = (r: ManagerRequest) => {
    const d = recorded.own(r.user.id, r.params.key);
    const pending = r.progress(d.operationId, withLang(r.c, `/w/manager/money/recorded/${r.params.key}`));
    return { status: 200, view: recordedPage(r.c, { lines: d.lines, pending }) };
  };

  const accountForm = (r: ManagerRequest) => {
    const current = services.payouts.reconciliation(r.user, r.coopId).payoutAccount;
    const value = current ?? r.user.address ?? "";
    return { status: 200, view: accountPage(r.c, { value, csrf: r.csrf, once: formKey(), problems: [] }) };
  };

  const setAccount = (r: ManagerRequest) => {
    const value = r.body.account?.trim() ?? "";
    return submitForm(r, once, {
      parsed: parseForm(r.c, payoutAccountInput, { account: value }),
      form: (problems) => accountPage(r.c, { value, csrf: r.csrf, once: r.body.once ?? formKey(), problems }),
      write: async (data) => {
        const res = await services.payouts.setPayoutAccount(r.user, r.coopId, data);
        return `/w/manager/money/account/done${opQuery(res.outcome)}`;
      },
    });
  };

  const closed = doneStore<Closed>();

  /** A lot of this cooperative that may be closed now, or "not found". */
  const closableLot = (r: ManagerRequest): LotRef => {
    const lot = closableLots(services, r.coopId).find(
      (l) => l.batchId.toLowerCase() === r.params.batchId.toLowerCase(),
    );
    if (lot === undefined) throw new DomainError("not_found", "batch_not_found", "no lot to close here");
    return lot;
  };

  const closeForm = (r: ManagerRequest) => ({
    status: 200,
    view: closePage(r.c, { lot: closableLot(r), csrf: r.csrf, once: formKey() }),
  });

  const close = (r: ManagerRequest) => {
    const lot = closableLot(r);
    return writeOnce(r, once, async () => {
      const res = await services.payouts.closeBatch(r.user, lot.batchId);
      const roundedOff = await Promise.all(
        res.roundedOff.map(async (x) => ({ amount: BigInt(x.amount), token: await deps.tokenView(x.token) })),
      );
      const key = closed.put(r.user.id, {
        lot,
        roundedOff,
        operationId: res.outcome.status === "mined" ? null : res.outcome.operationId,
      });
      return `/w/manager/money/closed/${key}`;
    });
  };

  const closedDone = (r: ManagerRequest) => {
    const d = closed.own(r.user.id, r.params.key);
    const pending = r.progress(d.operationId, withLang(r.c, `/w/manager/money/closed/${r.params.key}`));
    return { status: 200, view: closedPage(r.c, { lot: d.lot, roundedOff: d.roundedOff, pending }) };
  };

  return [
    { method: "get", path: "/w/manager/money/close/:batchId", handle: closeForm },
    { method: "post", path: "/w/manager/money/close/:batchId", handle: close },
    { method: "get", path: "/w/manager/money/closed/:key", handle: closedDone },
    { method: "get", path: "/w/manager/money", handle: show },
    { method: "post", path: "/w/manager/money/record", handle: record },
    { method: "get", path: "/w/manager/money/recorded/:key", handle: done },
    { method: "get", path: "/w/manager/money/account", handle: accountForm },
    { method: "post", path: "/w/manager/money/account", handle: setAccount },
    {
      method: "get",
      path: "/w/manager/money/account/done",
      handle: (r) => ({ status: 200, view: accountDonePage(r.c, { pending: r.pending }) }),
    },
  ];
}
