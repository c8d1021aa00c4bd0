/**
 * The views of payout.ts: who is still owed (a "pay <name>" button each, "pay everyone" per lot and
 * currency), the sales whose payment may be released, and the confirmations. Amounts in the sale's
 * currency with the reader's digits and separators; names before figures, figures before proofs.
 */
import { html, type Html } from "../../pages/html";
import { productName, type Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";
import type { View } from "../http";
import { progressBanner, type PendingWrite } from "../progress";
import { lotPath } from "../views/home";
import { hidden } from "./views";
import { amountText } from "../views/components";

export { amountText };

export interface TokenView {
  /** What the forms send: "ETH" or the ERC-20's address. */
  param: string;
  symbol: string;
  decimals: number | null;
  currency?: string | null;
}

interface LotRef {
  batchId: string;
  productCode: string;
  lotCode: string;
  gtin: string;
}

export interface OwedGroup extends LotRef {
  token: TokenView;
  members: { userId: string | null; name: string | null; due: bigint; once: string }[];
  once: string;
}

export interface Releasable extends LotRef {
  saleId: number;
  price: bigint;
  token: TokenView;
  disputeUntil: number;
  once: string;
}

export interface PaidLine {
  name: string | null;
  amount: bigint | null;
  alreadyPaid: boolean;
}

const q = (c: Catalog, path: string) => `${path}?lang=${c.lang}`;
const lotName = (c: Catalog, l: { productCode: string; lotCode: string }) =>
  html`${productName(c, l.productCode)} · <bdi dir="ltr">${l.lotCode}</bdi>`;

function amountOf(c: Catalog, raw: bigint, t: TokenView): Html {
  return html`<span dir="ltr" class="amount">${amountText(c, raw, t)}</span>`;
}

const nameOf = (c: Catalog, name: string | null) => (name === null ? c.workspace.unnamed : name);
/**
 * A name inside a sentence, isolated (FSI … PDI, the text form of <bdi>): a Latin name in an Arabic
 * sentence does not turn the sentence around.
 */
export const isolated = (name: string): string => `\u2068${name}\u2069`;

export function payoutsPage(c: Catalog, m: { groups: OwedGroup[]; releasable: Releasable[]; csrf: Html }): View {
  const t = c.manager2;
  const f = formatterFor(c);
  const owed = m.groups.reduce((n, g) => n + g.members.length, 0);
  const groups = m.groups.map(
    (g) =>
      html`<section class="panel owed-group" data-batch="${g.batchId}" data-token="${g.token.param}">
        <h2><a href="${q(c, lotPath(g))}">${lotName(c, g)}</a></h2>
        <ul class="links">
          ${g.members.map(
            (x) =>
              html`<li data-member="${x.userId ?? ""}">
                <strong><bdi>${nameOf(c, x.name)}</bdi></strong> · ${amountOf(c, x.due, g.token)}
                ${
                  x.userId === null
                    ? ""
                    : html`<form method="post" action="/w/manager/payouts/pay" class="pay-one">
                        ${hidden(c, m.csrf, x.once)}
                        <input type="hidden" name="batchId" value="${g.batchId}" />
                        <input type="hidden" name="token" value="${g.token.param}" />
                        <input type="hidden" name="memberId" value="${x.userId}" />
                        <button type="submit" class="button">${t.payOne(isolated(nameOf(c, x.name)))}</button>
                      </form>`
                }
              </li>`,
          )}
        </ul>
        ${
          g.members.length > 1
            ? html`<form method="post" action="/w/manager/payouts/pay" class="pay-all">
                ${hidden(c, m.csrf, g.once)}
                <input type="hidden" name="batchId" value="${g.batchId}" />
                <input type="hidden" name="token" value="${g.token.param}" />
                <input type="hidden" name="all" value="1" />
                <button type="submit" class="button big">${t.payAll}</button>
              </form>`
            : ""
        }
      </section>`,
  );
  const releasable = m.releasable.map(
    (s) =>
      html`<li data-sale="${String(s.saleId)}">
        <strong>${t.saleOf(f.integer(s.saleId), amountText(c, s.price, s.token))}</strong>
        <a href="${q(c, lotPath(s))}">${lotName(c, s)}</a>
        <span class="note">${t.windowEnded(f.dateTime(s.disputeUntil))}</span>
        <form method="post" action="${`/w/manager/sales/${s.saleId}/release`}" class="release">
          ${hidden(c, m.csrf, s.once)}
          <button type="submit" class="button">${t.releaseButton}</button>
        </form>
      </li>`,
  );
  const body = html`<h1>${t.payoutsTitle}</h1>
    <p>${t.payoutsIntro}</p>
    <p id="owed-count"><strong>${t.owedCount(owed)}</strong></p>
    ${m.groups.length === 0 ? html`<p id="nobody-owed">${t.nobodyOwed}</p>` : groups}
    <section id="release" aria-labelledby="release-title">
      <h2 id="release-title">${t.releaseTitle}</h2>
      ${
        m.releasable.length === 0
          ? html`<p id="none-to-release">${t.releaseNone}</p>`
          : html`<p>${t.releaseIntro}</p>
              <ul class="links">
                ${releasable}
              </ul>`
      }
    </section>
    <p><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></p>`;
  return { title: t.payoutsTitle, body };
}

export function paidPage(
  c: Catalog,
  m: { lines: PaidLine[]; token: TokenView; lot: LotRef; pending: PendingWrite | null },
): View {
  const t = c.manager2;
  const paidCount = m.lines.filter((l) => !l.alreadyPaid).length;
  // Only one member asked for, and she was paid already: that sentence is the whole answer, calmly.
  const onlyAlready = m.lines.length === 1 && m.lines[0].alreadyPaid;
  const title = onlyAlready ? t.alreadyPaid(isolated(nameOf(c, m.lines[0].name))) : t.paidTitle(paidCount);
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
      <p>${lotName(c, m.lot)}</p>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    <ul class="links" id="paid">
      ${m.lines.map((l) =>
        l.alreadyPaid
          ? onlyAlready
            ? ""
            : html`<li class="already-paid">${t.alreadyPaid(isolated(nameOf(c, l.name)))}</li>`
          : html`<li class="paid-line">
              <strong><bdi>${nameOf(c, l.name)}</bdi></strong> ·
              ${l.amount === null ? "" : amountOf(c, l.amount, m.token)}
            </li>`,
      )}
    </ul>
    ${paidCount > 0 ? html`<p>${t.paidText}</p>` : ""}
    <ul class="links">
      <li><a href="${q(c, "/w/manager/payouts")}">${t.payoutsLink}</a></li>
      <li><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></li>
    </ul>`;
  return { title, body };
}

export function releasedPage(
  c: Catalog,
  m: { saleId: number; lot: LotRef; already: boolean; pending: PendingWrite | null },
): View {
  const t = c.manager2;
  const title = t.releasedTitle(formatterFor(c).integer(m.saleId));
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
      <p>${lotName(c, m.lot)}</p>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)}
    ${m.already ? html`<p id="already-released">${t.alreadyReleased}</p>` : ""}
    <p>${t.releasedText}</p>
    <ul class="links">
      <li><a class="button" href="${q(c, "/w/manager/payouts")}">${t.payNow}</a></li>
      <li><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></li>
    </ul>`;
  return { title, body };
}
