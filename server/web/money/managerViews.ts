/**
 * The manager's money pages, as HTML (manager.ts answers with them): the members' shares due and the
 * form that records payouts (one checkbox per member, each row prefilled with what is still due), the
 * payouts recorded with each member's answer, the cooperative's payout account; their confirmations.
 */
import { PAYOUT_METHODS, PAYOUT_PURPOSES, type PayoutMethod, type PayoutPurpose } from "../../../domain/payouts";
import { html, type Html } from "../../pages/html";
import { productName, type Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";
import type { View } from "../page";
import { progressBanner, type PendingWrite } from "../progress";
import { hidden } from "../manager/views";
import {
  amountHtml,
  amountText,
  errorSummary,
  field,
  select,
  type AmountToken,
  type FieldProblem,
} from "../views/components";
import { dirhamsHtml, nameOf, q } from "./text";

/** One member's account in one currency, as the list shows it. */
export interface DueRow {
  member: string;
  name: string | null;
  token: AmountToken & { address: string };
  entitled: bigint;
  paid: bigint;
  confirmed: bigint;
  contested: bigint;
  outstanding: bigint;
  /** How a payout of this row is made in dirhams; null when it cannot be (no reference rate). */
  pay: {
    prefill: string;
    tokenAmount: string | null;
    rate: { decimal: string; text: string; asOf: number } | null;
  } | null;
}

export interface PayoutLine {
  name: string | null;
  dirhams: bigint;
  method: PayoutMethod;
  purpose: PayoutPurpose;
  status: "none" | "recorded" | "confirmed" | "contested";
  at: number;
}

export interface ManagerMoneyModel {
  rows: DueRow[];
  payouts: PayoutLine[];
  account: { address: string | null; own: boolean };
  /** Lots whose sales are all settled and whose accounts are open. */
  closable: LotRef[];
  csrf: Html;
  once: string;
  /** The form as sent, on a 400. */
  values: Record<string, string | undefined>;
  problems: FieldProblem[];
}

const problemOf = (problems: readonly FieldProblem[], id: string) => problems.find((p) => p.field === id)?.message;

function figures(c: Catalog, r: DueRow): Html {
  const t = c.payouts;
  const owed = r.outstanding < 0n;
  return html`<dl class="money">
    <dt>${t.entitled}</dt>
    <dd class="entitled">${amountHtml(c, r.entitled, r.token)}</dd>
    <dt>${t.paid}</dt>
    <dd class="paid">${amountHtml(c, r.paid, r.token)}</dd>
    <dt>${t.confirmed}</dt>
    <dd class="confirmed">${amountHtml(c, r.confirmed, r.token)}</dd>
    ${
      r.contested > 0n
        ? html`<dt>${t.contested}</dt>
            <dd class="contested">${amountHtml(c, r.contested, r.token)}</dd>`
        : ""
    }
    <dt>${owed ? t.advanceNotCovered : t.outstanding}</dt>
    <dd class="${owed ? "due advance" : "due"}">${amountHtml(c, owed ? -r.outstanding : r.outstanding, r.token)}</dd>
  </dl>`;
}

/** The fields of one member's payout, shown under her checkbox. */
function payFields(c: Catalog, m: ManagerMoneyModel, r: DueRow, i: number): Html {
  const t = c.payouts;
  const v = (name: string) => m.values[`${name}-${i}`];
  const pay = r.pay!;
  const err = (name: string) => problemOf(m.problems, `${name}-${i}`);
  return html`${
      pay.tokenAmount === null
        ? ""
        : html`<input type="hidden" name="${`tokenAmount-${i}`}" value="${pay.tokenAmount}" />
            <input type="hidden" name="${`rate-${i}`}" value="${pay.rate?.decimal ?? ""}" />`
    }
    <input type="hidden" name="${`member-${i}`}" value="${r.member}" />
    <input type="hidden" name="${`token-${i}`}" value="${r.token.address}" />
    ${field({
      id: `amount-${i}`,
      label: t.amount,
      hint:
        pay.rate === null ? t.amountHint : html`${t.amountAtRate(pay.rate.text, formatterFor(c).date(pay.rate.asOf))}`,
      value: v("amount") ?? pay.prefill,
      error: err("amount"),
      ltr: true,
      inputClass: "amount",
      attributes: html`inputmode="decimal" autocomplete="off"`,
    })}
    ${select(
      `method-${i}`,
      t.method,
      PAYOUT_METHODS.map((x) => [x, t.methods[x]]),
      v("method") ?? "mwallet",
      err("method"),
    )}
    ${select(
      `purpose-${i}`,
      t.purpose,
      PAYOUT_PURPOSES.map((x) => [x, t.purposes[x]]),
      v("purpose") ?? "saleShare",
      err("purpose"),
    )}
    ${field({
      id: `reference-${i}`,
      label: t.reference,
      hint: t.referenceHint,
      value: v("reference"),
      error: err("reference"),
      ltr: true,
      attributes: html`maxlength="200" autocomplete="off"`,
    })}`;
}

/**
 * A member with nothing due keeps her form folded (an advance or a premium may still be paid to her):
 * `<details>` opens without JavaScript. A member still due, or a row sent back with a problem, is open.
 */
function fold(r: DueRow, keepOpen: boolean, summary: string, fields: Html): Html {
  if (r.outstanding > 0n || keepOpen) return fields;
  return html`<details class="pay-other">
    <summary>${summary}</summary>
    ${fields}
  </details>`;
}

function dueRow(c: Catalog, m: ManagerMoneyModel, r: DueRow, i: number): Html {
  const t = c.payouts;
  const name = nameOf(c, r.name);
  const picked = m.values[`pick-${i}`] === "1";
  const pickError = i === 0 ? problemOf(m.problems, "pick-0") : undefined;
  return html`<li class="panel due-row" data-member="${r.member}" data-token="${r.token.address}">
    <h3><bdi>${name}</bdi></h3>
    ${figures(c, r)}
    ${
      r.pay === null
        ? html`<p class="note">${t.noRate(r.token.currency ?? r.token.symbol)}</p>`
        : fold(
            r,
            picked || m.problems.some((p) => p.field.endsWith(`-${i}`)),
            t.pick(name),
            html`<div class="${pickError ? "field has-error" : "field"}">
                ${pickError ? html`<span class="error-message" id="pick-0-error">${pickError}</span>` : ""}
                <label class="choice"
                  ><input
                    type="checkbox"
                    id="${`pick-${i}`}"
                    name="${`pick-${i}`}"
                    value="1"
                    ${picked ? html`checked` : ""}
                    ${pickError ? html`aria-describedby="pick-0-error"` : ""}
                  />
                  ${t.pick(name)}</label
                >
              </div>
              ${payFields(c, m, r, i)}`,
          )
    }
  </li>`;
}

function payoutList(c: Catalog, lines: PayoutLine[]): Html {
  const t = c.payouts;
  const f = formatterFor(c);
  if (lines.length === 0) return html`<p id="no-payouts">${t.noPayouts}</p>`;
  return html`<ul class="plain" id="payouts">
    ${lines.map(
      (p) =>
        html`<li class="${`payout ${p.status}`}">
          <strong><bdi>${nameOf(c, p.name)}</bdi></strong> · ${dirhamsHtml(c, p.dirhams)}
          <span class="note">${t.methods[p.method]} · ${t.purposes[p.purpose]} · ${f.date(p.at)}</span>
          <span class="${`badge state answer-${p.status}`}"
            >${p.status === "none" ? t.statuses.recorded : t.statuses[p.status]}</span
          >
        </li>`,
    )}
  </ul>`;
}

function accountPanel(c: Catalog, a: ManagerMoneyModel["account"]): Html {
  const t = c.payouts;
  return html`<section id="payout-account" aria-labelledby="account-title">
    <h2 id="account-title">${t.accountTitle}</h2>
    ${
      a.address === null
        ? html`<p class="banner warn">${t.accountNone}</p>`
        : a.own
          ? html`<p>${t.accountOwn}</p>`
          : html`<p>${t.accountOther} <code class="addr" dir="ltr">${a.address}</code></p>`
    }
    <p><a href="${q(c, "/w/manager/money/account")}">${t.accountChange}</a></p>
  </section>`;
}

export function managerMoneyPage(c: Catalog, m: ManagerMoneyModel): View {
  const t = c.payouts;
  const due = m.rows.filter((r) => r.outstanding > 0n).length;
  const payable = m.rows.some((r) => r.pay !== null);
  const body = html`${errorSummary(c, m.problems)}
    <h1>${t.managerTitle}</h1>
    <p>${t.managerIntro}</p>
    <p id="due-count"><strong>${t.dueCount(due)}</strong></p>
    ${
      m.rows.length === 0
        ? html`<p id="no-rows">${t.noRows}</p>`
        : html`<form method="post" action="/w/manager/money/record" novalidate>
            ${hidden(c, m.csrf, m.once)}
            <ul class="plain" id="due">
              ${m.rows.map((r, i) => dueRow(c, m, r, i))}
            </ul>
            ${payable ? html`<button type="submit" class="big" id="record">${t.record}</button>` : ""}
          </form>`
    }
    <section id="recorded" aria-labelledby="recorded-title">
      <h2 id="recorded-title">${t.listTitle}</h2>
      ${payoutList(c, m.payouts)}
    </section>
    ${closeSection(c, m.closable)} ${accountPanel(c, m.account)}
    <p><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></p>`;
  return { title: t.managerTitle, body };
}

export function recordedPage(
  c: Catalog,
  m: { lines: { name: string | null; dirhams: bigint; method: PayoutMethod }[]; pending: PendingWrite | null },
): View {
  const t = c.payouts;
  const title = t.recordedTitle(m.lines.length);
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    <ul class="links" id="recorded-lines">
      ${m.lines.map(
        (l) =>
          html`<li>
            <strong><bdi>${nameOf(c, l.name)}</bdi></strong> · ${dirhamsHtml(c, l.dirhams)} · ${t.methods[l.method]}
          </li>`,
      )}
    </ul>
    <p>${t.recordedText}</p>
    <ul class="links">
      <li><a class="button" href="${q(c, "/w/manager/money")}">${t.backToPay}</a></li>
      <li><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></li>
    </ul>`;
  return { title, body };
}

export function accountPage(
  c: Catalog,
  m: { value: string; csrf: Html; once: string; problems: FieldProblem[] },
): View {
  const t = c.payouts;
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="/w/manager/money/account" novalidate>
      ${hidden(c, m.csrf, m.once)}
      <h1>${t.accountQuestion}</h1>
      <p>${t.accountExplain}</p>
      ${field({
        id: "account",
        label: t.accountField,
        hint: t.accountHint,
        value: m.value,
        error: problemOf(m.problems, "account"),
        ltr: true,
        inputClass: "mono",
        attributes: html`autocomplete="off" spellcheck="false"`,
      })}
      <button type="submit" class="big">${t.accountSave}</button>
    </form>
    <p><a href="${q(c, "/w/manager/money")}">${t.backToPay}</a></p>`;
  return { title: t.accountQuestion, body };
}

export function accountDonePage(c: Catalog, m: { pending: PendingWrite | null }): View {
  const t = c.payouts;
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? t.accountDone : c.manager.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    <p>${t.accountDoneText}</p>
    <p><a class="button" href="${q(c, "/w/manager/money")}">${t.backToPay}</a></p>`;
  return { title: t.accountDone, body };
}

/** A lot as the closing pages name it. */
export interface LotRef {
  batchId: string;
  productCode: string;
  lotCode: string;
}

const lotText = (c: Catalog, l: LotRef) => `${productName(c, l.productCode)} · \u2066${l.lotCode}\u2069`;

/** The lots whose sales are all settled and whose accounts are still open: a link to close each. */
export function closeSection(c: Catalog, lots: LotRef[]): Html {
  if (lots.length === 0) return html``;
  const t = c.payouts;
  return html`<section id="close-lots" aria-labelledby="close-title">
    <h2 id="close-title">${t.closeTitle}</h2>
    <p>${t.closeIntro}</p>
    <ul class="links">
      ${lots.map(
        (l) =>
          html`<li data-batch="${l.batchId}">
            <a href="${q(c, `/w/manager/money/close/${l.batchId}`)}">${t.closeLink(lotText(c, l))}</a>
          </li>`,
      )}
    </ul>
  </section>`;
}

export function closePage(c: Catalog, m: { lot: LotRef; csrf: Html; once: string }): View {
  const t = c.payouts;
  const title = t.closeQuestion(lotText(c, m.lot));
  const body = html`<h1>${title}</h1>
    <p>${t.closeExplain}</p>
    <form method="post" action="${`/w/manager/money/close/${m.lot.batchId}`}">
      ${hidden(c, m.csrf, m.once)}
      <button type="submit" class="big">${t.closeButton}</button>
    </form>
    <p><a href="${q(c, "/w/manager/money")}">${t.backToPay}</a></p>`;
  return { title, body };
}

export function closedPage(
  c: Catalog,
  m: { lot: LotRef; roundedOff: { amount: bigint; token: AmountToken }[]; pending: PendingWrite | null },
): View {
  const t = c.payouts;
  const title = t.closedTitle(lotText(c, m.lot));
  const left = m.roundedOff.filter((r) => r.amount > 0n);
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    ${
      left.length === 0
        ? html`<p id="rounded-off">${t.noRoundedOff}</p>`
        : html`<ul class="links" id="rounded-off">
            ${left.map((r) => html`<li>${t.roundedOff(amountText(c, r.amount, r.token))}</li>`)}
          </ul>`
    }
    <p><a class="button" href="${q(c, "/w/manager/money")}">${t.backToPay}</a></p>`;
  return { title, body };
}
