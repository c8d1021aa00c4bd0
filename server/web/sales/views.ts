/**
 * Selling and buying pages: the buyer's sign-up (its key shown once), test money, an offer with "buy",
 * "my orders" with confirm / dispute, and the manager's ship / cancel of one sale. Words first; prices in
 * the sale's currency, formatted for the reader's language.
 */
import type { Sale } from "../../index/queries";
import { html, type Html } from "../../pages/html";
import { progressBanner, type PendingWrite } from "../progress";
import { productName, unitName, type Catalog } from "../../pages/i18n";
import { quantity } from "../../pages/format";
import { ONCE_FIELD, onceFields } from "../forms";
import { amountText, banner, errorSummary, field, tokenShownOnce, type FieldProblem } from "../views/components";

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
    <dd class="quantity">${quantity(c, s.sale.quantity, s.unit)}</dd>
    <dt>${c.sales.price}</dt>
    <dd>${price(c, s)}</dd>
    <dt>${c.buying.cooperative}</dt>
    <dd><bdi>${s.cooperativeName}</bdi></dd>
  </dl>`;
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
  m: { title: string; text: string; pending: PendingWrite | null; next: string; nextLabel: string },
): View {
  const t = c.buying;
  const body = html`<div class="panel confirmation" id="step-done">
      <h1>${m.pending === null ? m.title : t.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, c.manager.lookAgain)} ${m.text === "" ? "" : html`<p>${m.text}</p>`}
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
  const step = (s: SaleView, path: string, label: string, cls: string) =>
    html`<form method="post" action="${q(c, `/w/buyer/orders/${s.sale.saleId}/${path}`)}">
      ${hidden(m.csrf, m.once())}
      <button type="submit" class="${`button ${cls}`}">${label}</button>
    </form>`;
  const body = html`<h1>${t.ordersTitle}</h1>
    ${refunds(c, m)} ${m.orders.length === 0 ? html`<p id="no-orders">${t.noOrders}</p>` : ""}
    ${m.orders.map(
      (s) =>
        html`<section class="panel order" data-sale="${s.sale.saleId}">
          <h2><bdi>${productName(c, s.productCode)}</bdi> · <bdi class="mono">${s.lotCode}</bdi></h2>
          <p class="state"><strong>${c.sales.states[s.sale.state]}</strong></p>
          ${facts(c, s)} ${s.sale.state === "Shipped" ? step(s, "confirm", t.confirmDelivery, "confirm") : ""}
          ${s.sale.state === "Funded" || s.sale.state === "Shipped" ? step(s, "dispute", t.openDispute, "secondary dispute") : ""}
        </section>`,
    )}
    <p><a href="${q(c, "/w")}">${t.back}</a></p>`;
  return { title: t.ordersTitle, body };
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

export function offerFormPage(
  c: Catalog,
  m: {
    batch: { batchId: string; productCode: string; lotCode: string; unit: string; available: string };
    values: { quantity?: string; price?: string };
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
        hint: c.workspace.available(`${quantity(c, m.batch.available, m.batch.unit)}`),
        value: m.values.quantity,
        error: err("quantity"),
        attributes: html`inputmode="numeric"`,
        ltr: true,
      })}
      ${field({
        id: "price",
        label: t.priceLabel,
        hint: t.priceHint,
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
