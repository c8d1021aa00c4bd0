/**
 * The member's money pages, as HTML (member.ts answers with them): what she is due and was paid, per
 * cooperative, in plain sentences; each payout the cooperative recorded asked as a question with two big
 * buttons; her choice to be paid in dirhams through the cooperative; the confirmations of her answers.
 */
import type { PayoutMethod, PayoutPurpose, PayoutStatus } from "../../../domain/payouts";
import { html, type Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";
import { onceFields } from "../forms";
import type { View } from "../page";
import { progressBanner, type PendingWrite } from "../progress";
import { amountHtml, errorSummary, radios, type AmountToken, type FieldProblem } from "../views/components";
import { dirhamsText, ltr, q } from "./text";

export interface MemberPayout {
  payoutId: string;
  dirhams: bigint;
  method: PayoutMethod;
  purpose: PayoutPurpose;
  status: PayoutStatus;
  at: number;
}

export interface MemberCoop {
  cooperativeId: number;
  name: string | null;
  throughCooperative: boolean;
  canRoute: boolean;
  rows: { token: AmountToken; entitled: bigint; paid: bigint; outstanding: bigint }[];
  payouts: MemberPayout[];
}

const formFields = (c: Catalog, csrf: Html, once: string) =>
  html`${onceFields(csrf, once)}<input type="hidden" name="lang" value="${c.lang}" />`;

/** "445,00 MAD", "M-Wallet", "3 décembre 2026": the three parts of every sentence about a payout. */
export function payoutWords(c: Catalog, p: Pick<MemberPayout, "dirhams" | "method" | "at">): [string, string, string] {
  return [ltr(dirhamsText(c, p.dirhams)), c.payouts.by[p.method], formatterFor(c).date(p.at)];
}

function figures(c: Catalog, rows: MemberCoop["rows"]): Html {
  const t = c.payouts;
  return html`${rows.map((r) => {
    const ahead = r.outstanding < 0n;
    return html`<dl class="money">
      <dt>${t.yourShare}</dt>
      <dd class="entitled">${amountHtml(c, r.entitled, r.token)}</dd>
      <dt>${t.paidYou}</dt>
      <dd class="paid">${amountHtml(c, r.paid, r.token)}</dd>
      <dt>${ahead ? t.advanceAhead : t.stillToCome}</dt>
      <dd class="due">${amountHtml(c, ahead ? -r.outstanding : r.outstanding, r.token)}</dd>
    </dl>`;
  })}`;
}

function payoutItem(c: Catalog, p: MemberPayout, m: { csrf: Html; once: () => string }): Html {
  const t = c.payouts;
  const [amount, by, date] = payoutWords(c, p);
  const yes = html`<form method="post" action="${`/w/member/payouts/${p.payoutId}/confirm`}" class="answer-yes">
    ${formFields(c, m.csrf, m.once())}
    <button type="submit" class="big">${t.yes}</button>
  </form>`;
  const purpose = html`<span class="note">${t.forWhat(t.purposes[p.purpose])}</span>`;
  if (p.status === "confirmed")
    return html`<li class="payout confirmed" data-payout="${p.payoutId}">
      <p>${t.saidYes(amount, by, date)}</p>
      ${purpose}
    </li>`;
  if (p.status === "contested")
    return html`<li class="payout contested" data-payout="${p.payoutId}">
      <p>${t.saidNo(amount, by, date)}</p>
      ${purpose} ${yes}
    </li>`;
  return html`<li class="panel payout recorded" data-payout="${p.payoutId}">
    <p><strong>${t.paidQuestion(amount, by, date)}</strong></p>
    ${purpose} ${yes}
    <form method="get" action="${`/w/member/payouts/${p.payoutId}/contest`}" class="answer-no">
      <input type="hidden" name="lang" value="${c.lang}" />
      <button type="submit" class="big">${t.no}</button>
    </form>
  </li>`;
}

function coopSection(c: Catalog, k: MemberCoop, m: { csrf: Html; once: () => string }): Html {
  const t = c.payouts;
  const open = k.payouts.filter((p) => p.status === "recorded");
  const answered = k.payouts.filter((p) => p.status !== "recorded");
  return html`<section
    class="coop-money"
    data-cooperative="${String(k.cooperativeId)}"
    aria-labelledby="${`coop-${k.cooperativeId}`}"
  >
    <h2 id="${`coop-${k.cooperativeId}`}"><bdi>${k.name ?? ""}</bdi></h2>
    ${open.length > 0 ? html`<p class="to-answer"><strong>${t.toAnswerCount(open.length)}</strong></p>` : ""}
    ${
      open.length > 0
        ? html`<ul class="plain">
            ${open.map((p) => payoutItem(c, p, m))}
          </ul>`
        : ""
    }
    ${figures(c, k.rows)}
    <p class="route">${k.throughCooperative ? t.routeYes : t.routeNo}</p>
    ${k.canRoute || k.throughCooperative ? html`<p><a href="${q(c, `/w/member/route`)}" id="route-change">${t.routeChange}</a></p>` : ""}
    ${
      k.payouts.length === 0
        ? html`<p class="no-payouts">${t.noPayoutsYet}</p>`
        : answered.length > 0
          ? html`<h3>${t.listTitle}</h3>
              <ul class="plain answered">
                ${answered.map((p) => payoutItem(c, p, m))}
              </ul>`
          : ""
    }
  </section>`;
}

export function myMoneyPage(c: Catalog, m: { coops: MemberCoop[]; csrf: Html; once: () => string }): View {
  const t = c.payouts;
  const body = html`<h1>${t.memberTitle}</h1>
    <p>${t.memberIntro}</p>
    ${m.coops.map((k) => coopSection(c, k, m))}
    <p><a href="${q(c, "/w")}">${c.roles.back}</a></p>`;
  return { title: t.memberTitle, body };
}

export function contestPage(
  c: Catalog,
  m: { payout: MemberPayout; reason: string; csrf: Html; once: string; problems: FieldProblem[] },
): View {
  const t = c.payouts;
  const [amount, by, date] = payoutWords(c, m.payout);
  const error = m.problems.find((p) => p.field === "reason")?.message;
  const body = html`${errorSummary(c, m.problems)}
    <h1>${t.contestQuestion}</h1>
    <p>${t.contestIntro(amount, by, date)}</p>
    <form method="post" action="${`/w/member/payouts/${m.payout.payoutId}/contest`}" novalidate>
      ${formFields(c, m.csrf, m.once)}
      <div class="${error ? "field has-error" : "field"}">
        <label for="reason">${t.reason}</label>
        <span class="hint" id="reason-hint">${t.reasonHint}</span>
        ${error ? html`<span class="error-message" id="reason-error">${error}</span>` : ""}
        <textarea id="reason" name="reason" rows="4" maxlength="1000" aria-describedby="reason-hint">
${m.reason}</textarea>
      </div>
      <button type="submit" class="big">${t.contestSend}</button>
    </form>
    <p><a href="${q(c, "/w/member/payouts")}">${t.backToMoney}</a></p>`;
  return { title: t.contestQuestion, body };
}

export function answeredPage(
  c: Catalog,
  m: { contested: boolean; payout: MemberPayout | null; pending: PendingWrite | null },
): View {
  const t = c.payouts;
  const title = m.contested ? t.contestedTitle : t.confirmedTitle;
  const words = m.payout === null ? null : payoutWords(c, m.payout);
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
      ${words === null ? "" : html`<p>${m.contested ? t.saidNo(...words) : t.saidYes(...words)}</p>`}
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    <p>${m.contested ? t.contestedText : t.confirmedText}</p>
    <p><a class="button" href="${q(c, "/w/member/payouts")}">${t.backToMoney}</a></p>`;
  return { title, body };
}

export function routePage(
  c: Catalog,
  m: { checked: string | undefined; canRoute: boolean; csrf: Html; once: string; problems: FieldProblem[] },
): View {
  const t = c.payouts;
  const error = m.problems.find((p) => p.field === "throughCooperative")?.message;
  const body = html`${errorSummary(c, m.problems)}
    <h1>${t.routeQuestion}</h1>
    <p>${t.routeExplain}</p>
    ${m.canRoute ? "" : html`<p class="banner warn">${t.routeNoAccount}</p>`}
    <form method="post" action="/w/member/route" novalidate>
      ${formFields(c, m.csrf, m.once)}
      ${radios({
        name: "throughCooperative",
        legend: t.routeQuestion,
        error,
        options: [
          ["yes", html`${t.routeYesLabel}`],
          ["no", html`${t.routeNoLabel}`],
        ],
        checked: m.checked,
      })}
      <button type="submit" class="big">${t.routeSave}</button>
    </form>
    <p><a href="${q(c, "/w/member/payouts")}">${t.backToMoney}</a></p>`;
  return { title: t.routeQuestion, body };
}

export function routeDonePage(c: Catalog, m: { yes: boolean; pending: PendingWrite | null }): View {
  const t = c.payouts;
  const title = m.yes ? t.routeDoneYes : t.routeDoneNo;
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    <p>${m.yes ? t.routeYes : t.routeNo}</p>
    <p><a class="button" href="${q(c, "/w/member/payouts")}">${t.backToMoney}</a></p>`;
  return { title, body };
}
