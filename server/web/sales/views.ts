/**
 * Selling and buying pages: the buyer's sign-up (its key shown once), test money, an offer with "buy",
 * "my orders" with confirm / dispute, and the manager's ship / cancel of one sale. Words first; prices in
 * the sale's currency, formatted for the reader's language.
 */
import type { Sale } from "../../index/queries";
import { html, type Html } from "../../pages/html";
import { progressBanner, type PendingWrite } from "../progress";
import { productName, unitName, type Catalog } from "../../pages/i18n";
import { ONCE_FIELD, onceFields } from "../forms";
import { formatterFor, quantity as quantityOf } from "../../pages/format";
import {
  amountText,
  banner,
  errorSummary,
  field,
  radios,
  tokenShownOnce,
  type FieldProblem,
} from "../views/components";

type View = { title: string; body: Html };
const q = (c: Catalog, path: string) => `${path}?lang=${c.lang}`;

export interface TokenView {
  symbol: string;
  decimals: number | null;
  currency?: string | null;
}

/** A sale with what a reader needs to recognise it: the product, the lot, the cooperative, the currency. */
export interface SaleView {
  sale: Sale;
  productCode: string;
  lotCode: string;
  unit: string;
  cooperativeName: string;
  token: TokenView;
}

function price(c: Catalog, s: SaleView): Html {
  return html`<span class="price" dir="ltr">${amountText(c, s.sale.price, s.token)}</span>`;
}

function facts(c: Catalog, s: SaleView): Html {
  return html`<dl class="facts">
    <dt>${c.sales.quantity}</dt>
    <dd class="quantity">${quantityOf(c, s.sale.quantity, s.unit)}</dd>
    <dt>${c.sales.price}</dt>
    <dd>${price(c, s)}</dd>
    <dt>${c.buying.cooperative}</dt>
    <dd><bdi>${s.cooperativeName}</bdi></dd>
  </dl>`;
}

/** "Sale 3 · 4 Dec 2026" and the product and lot: what tells two sales of one lot apart. */
function saleHeading(c: Catalog, s: SaleView, level: "h2" | "p"): Html {
  const when = s.sale.fundedAt ?? s.sale.chain.blockTime;
  const what = html`<bdi>${productName(c, s.productCode)}</bdi> · <bdi class="mono">${s.lotCode}</bdi>`;
  const which = html`<span class="sale-no">${c.sales.sale(formatterFor(c).integer(s.sale.saleId))}</span> ·
    <span class="sale-date">${formatterFor(c).date(when)}</span>`;
  return level === "h2"
    ? html`<h2>${what}</h2>
        <p class="sale-id">${which}</p>`
    : html`<p>${what}</p>
        <p class="sale-id">${which}</p>`;
}

const hidden = onceFields;

export function signUpPage(c: Catalog, m: { value?: string; problems: FieldProblem[]; once: string }): View {
  const t = c.buying;
  const error = m.problems.find((p) => p.field === "displayName")?.message;
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="${q(c, "/signup")}" novalidate>
      <input type="hidden" name="${ONCE_FIELD}" value="${m.once}" />
      <h1><label for="displayName">${t.signUpTitle}</label></h1>
      <p>${t.signUpIntro}</p>
      ${field({
        id: "displayName",
        label: t.displayName,
        hint: t.displayNameHint,
        value: m.value,
        error,
        attributes: html`autocomplete="organization" maxlength="80"`,
      })}
      <button type="submit" class="button" id="signup-submit">${t.signUp}</button>
    </form>`;
  return { title: t.signUpTitle, body };
}

export function signedUpPage(c: Catalog, m: { token: string | null }): View {
  const t = c.buying;
  const body = html`<div class="panel confirmation" id="signed-up"><h1>${t.signedUpTitle}</h1></div>
    ${
      m.token === null
        ? ""
        : tokenShownOnce({ id: "buyer-token", token: m.token, intro: t.tokenIntro, warn: t.tokenWarn })
    }
    <ul class="links">
      <li><a class="button" id="to-funds" href="${q(c, "/w/buyer/funds")}">${t.fundsTitle}</a></li>
      <li><a href="${q(c, "/market")}">${c.nav.market}</a></li>
      <li><a href="${q(c, "/w")}">${t.back}</a></li>
    </ul>`;
  return { title: t.signedUpTitle, body };
}

export function fundsPage(
  c: Catalog,
  m: { available: boolean; outcome?: "done" | "refused"; csrf: Html; once: string },
): View {
  const t = c.buying;
  const status =
    m.outcome === "done"
      ? banner("ok", "funds-done", t.fundsTitle, t.fundsDone)
      : m.outcome === "refused"
        ? banner("warn", "funds-refused", t.fundsTitle, t.fundsRefused)
        : "";
  const body = html`<h1>${t.fundsTitle}</h1>
    ${status}
    ${
      m.available
        ? html`<p>${t.fundsIntro}</p>
            <form method="post" action="${q(c, "/w/buyer/funds")}">
              ${hidden(m.csrf, m.once)}
              <button type="submit" class="button" id="get-funds">${t.getFunds}</button>
            </form>`
        : html`<p id="funds-none">${t.fundsNone}</p>`
    }
    <ul class="links">
      <li><a href="${q(c, "/market")}">${c.nav.market}</a></li>
      <li><a href="${q(c, "/w")}">${t.back}</a></li>
    </ul>`;
  return { title: t.fundsTitle, body };
}

export function offerPage(
  c: Catalog,
  m: { s: SaleView; canBuy: boolean; signedIn: boolean; csrf: Html; once: string },
): View {
  const t = c.buying;
  const title = t.offerTitle(productName(c, m.s.productCode));
  const open = m.s.sale.state === "Created";
  const body = html`<h1><bdi>${title}</bdi></h1>
    <p><bdi class="mono">${m.s.lotCode}</bdi> · ${c.sales.states[m.s.sale.state]}</p>
    ${facts(c, m.s)}
    ${
      !open
        ? html`<p class="banner warn" id="not-for-sale">${t.notForSale}</p>`
        : m.canBuy
          ? html`<p>${t.buyHint}</p>
              <form method="post" action="${q(c, `/market/${m.s.sale.saleId}/buy`)}">
                ${hidden(m.csrf, m.once)}
                <button type="submit" class="button" id="buy">${t.buy}</button>
              </form>`
          : html`<p id="sign-in-to-buy">${t.signInToBuy}</p>
              <ul class="links">
                ${m.signedIn ? "" : html`<li><a href="${q(c, "/signin")}">${c.nav.signIn}</a></li>`}
                <li><a href="${q(c, "/signup")}">${t.signUp}</a></li>
              </ul>`
    }
    <p><a href="${q(c, `/b/${m.s.sale.batchId}`)}">${c.market.story}</a></p>`;
  return { title, body };
}

export function stepDonePage(
  c: Catalog,
  m: {
    title: string;
    text: string;
    pending: PendingWrite | null;
    next: string;
    nextLabel: string;
    /** The sale the step was about: its product, lot, quantity and price under the title. */
    sale?: SaleView;
  },
): View {
  const t = c.buying;
  const body = html`<div class="panel confirmation" id="step-done">
      <h1>${m.pending === null ? m.title : t.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)} ${m.text === "" ? "" : html`<p>${m.text}</p>`}
    ${m.sale === undefined ? "" : html`<section class="sale-facts">${saleHeading(c, m.sale, "h2")} ${facts(c, m.sale)}</section>`}
    <ul class="links">
      <li><a class="button" id="next" href="${m.next}">${m.nextLabel}</a></li>
      <li><a href="${q(c, "/w")}">${t.back}</a></li>
    </ul>`;
  return { title: m.title, body };
}

/** Money the escrow holds for the buyer, per currency (its token address is the form's field). */
export interface RefundView {
  token: string;
  amount: bigint;
  view: TokenView;
}

function refunds(c: Catalog, m: { refunds: RefundView[]; csrf: Html; once: () => string }): Html {
  if (m.refunds.length === 0) return html``;
  const t = c.buying;
  // The amount is isolated left to right (LRI … PDI) inside a sentence that may run right to left.
  const amount = (r: RefundView) => amountText(c, r.amount, r.view);
  return html`<section class="panel" id="refunds" aria-labelledby="refunds-title">
    <h2 id="refunds-title">${t.refundsTitle}</h2>
    <p>${t.refundsText}</p>
    ${m.refunds.map(
      (r) =>
        html`<form method="post" action="${q(c, "/w/buyer/withdraw")}">
          ${hidden(m.csrf, m.once())}
          <input type="hidden" name="token" value="${r.token}" />
          <button type="submit" class="button withdraw">${t.withdraw(`\u2066${amount(r)}\u2069`)}</button>
        </form>`,
    )}
  </section>`;
}

export function ordersPage(
  c: Catalog,
  m: { orders: SaleView[]; refunds: RefundView[]; csrf: Html; once: () => string },
): View {
  const t = c.buying;
  // Confirming releases the money for good: a link to a page that asks first. A problem is a secondary button.
  const confirm = (s: SaleView) =>
    html`<a class="button primary confirm" href="${q(c, `/w/buyer/orders/${s.sale.saleId}/confirm`)}"
      >${t.confirmDelivery}</a
    >`;
  const dispute = (s: SaleView) =>
    html`<form method="post" action="${q(c, `/w/buyer/orders/${s.sale.saleId}/dispute`)}">
      ${hidden(m.csrf, m.once())}
      <button type="submit" class="button secondary dispute">${t.openDispute}</button>
    </form>`;
  const body = html`<h1>${t.ordersTitle}</h1>
    ${refunds(c, m)} ${m.orders.length === 0 ? html`<p id="no-orders">${t.noOrders}</p>` : ""}
    ${m.orders.map(
      (s) =>
        html`<section class="panel order" data-sale="${s.sale.saleId}">
          ${saleHeading(c, s, "h2")}
          <p class="state"><strong>${c.sales.states[s.sale.state]}</strong></p>
          ${facts(c, s)}
          ${
            s.sale.state === "Funded" || s.sale.state === "Shipped"
              ? html`<div class="actions">${s.sale.state === "Shipped" ? confirm(s) : ""} ${dispute(s)}</div>`
              : ""
          }
        </section>`,
    )}
    <p><a href="${q(c, "/w")}">${t.back}</a></p>`;
  return { title: t.ordersTitle, body };
}

/** "Did you receive it?": the one step before the money goes to the cooperative for good. */
export function confirmDeliveryPage(c: Catalog, m: { s: SaleView; csrf: Html; once: string }): View {
  const t = c.selling;
  const what = `${quantityOf(c, m.s.sale.quantity, m.s.unit)} · ${productName(c, m.s.productCode)} (${m.s.lotCode})`;
  const body = html`<h1>${t.confirmTitle}</h1>
    ${saleHeading(c, m.s, "p")}
    <p id="confirm-question"><strong>${t.confirmQuestion(`\u2068${what}\u2069`)}</strong></p>
    ${facts(c, m.s)}
    <p class="banner warn" id="confirm-warn">${t.confirmWarn}</p>
    <div class="actions">
      <form method="post" action="${q(c, `/w/buyer/orders/${m.s.sale.saleId}/confirm`)}">
        ${hidden(m.csrf, m.once)}
        <button type="submit" class="button big" id="confirm-yes">${t.confirmYes}</button>
      </form>
      <a id="confirm-back" href="${q(c, "/w/buyer/orders")}">${t.confirmBack}</a>
    </div>`;
  return { title: t.confirmTitle, body };
}

export function managerSalePage(c: Catalog, m: { s: SaleView; csrf: Html; once: () => string }): View {
  const t = c.buying;
  const title = t.saleTitle(String(m.s.sale.saleId));
  const step = (path: string, label: string, id: string) =>
    html`<form method="post" action="${q(c, `/w/manager/sales/${m.s.sale.saleId}/${path}`)}">
      ${hidden(m.csrf, m.once())}
      <button type="submit" class="button" id="${id}">${label}</button>
    </form>`;
  const body = html`<h1>${title}</h1>
    <p><bdi>${productName(c, m.s.productCode)}</bdi> · <bdi class="mono">${m.s.lotCode}</bdi></p>
    <p class="state"><strong>${c.sales.states[m.s.sale.state]}</strong></p>
    ${facts(c, m.s)} ${m.s.sale.state === "Funded" ? step("ship", t.ship, "ship") : ""}
    ${m.s.sale.state === "Created" ? step("cancel", t.cancel, "cancel") : ""}
    <p><a href="${q(c, "/w/manager")}">${t.back}</a></p>`;
  return { title, body };
}

/** A currency a sale may be priced in: `param` is what the form sends (a token's address, or ETH). */
export interface CurrencyChoice {
  param: string;
  /** ISO 4217 ("MAD"), or ETH. */
  code: string;
  decimals: number;
}

export function offerFormPage(
  c: Catalog,
  m: {
    batch: { batchId: string; productCode: string; lotCode: string; unit: string; available: string };
    currencies: CurrencyChoice[];
    values: { quantity?: string; price?: string; token?: string };
    problems: FieldProblem[];
    csrf: Html;
    once: string;
  },
): View {
  const t = c.buying;
  const err = (id: string) => m.problems.find((p) => p.field === id)?.message;
  const body = html`${errorSummary(c, m.problems)}
    <h1>${t.offerFormTitle}</h1>
    <p><bdi>${productName(c, m.batch.productCode)}</bdi> · <bdi class="mono">${m.batch.lotCode}</bdi></p>
    <form method="post" action="${q(c, "/w/manager/sales")}" novalidate>
      ${hidden(m.csrf, m.once)}
      <input type="hidden" name="batchId" value="${m.batch.batchId}" />
      ${field({
        id: "quantity",
        label: `${c.sales.quantity} (${unitName(c, m.batch.unit)})`,
        hint: c.workspace.available(`${quantityOf(c, m.batch.available, m.batch.unit)}`),
        value: m.values.quantity,
        error: err("quantity"),
        attributes: html`inputmode="numeric"`,
        ltr: true,
      })}
      ${radios({
        name: "token",
        legend: c.selling.currency,
        error: err("token"),
        options: m.currencies.map((x): [string, Html] => [
          x.param,
          html`${c.selling.currencyNames[x.code] ?? x.code} <bdi dir="ltr">(${x.code})</bdi>`,
        ]),
        checked:
          m.currencies.find((x) => x.param.toLowerCase() === (m.values.token ?? "").toLowerCase())?.param ??
          m.currencies[0]?.param,
      })}
      <p class="note" id="token-hint">${c.selling.currencyHint}</p>
      ${field({
        id: "price",
        label: c.selling.priceLabel,
        hint: c.selling.priceHint,
        value: m.values.price,
        error: err("price"),
        attributes: html`inputmode="decimal"`,
        ltr: true,
      })}
      <button type="submit" class="button" id="offer-submit">${t.sell}</button>
    </form>
    <p><a href="${q(c, "/w")}">${t.back}</a></p>`;
  return { title: t.offerFormTitle, body };
}
