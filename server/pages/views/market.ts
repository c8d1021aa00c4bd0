/** The market: open offers of every cooperative, filtered by product and region with a plain GET form. */
import type { ReferenceRate } from "../../index/payoutQueries";
import { ZERO_ADDRESS as ZeroAddress } from "../../chain/address";
import { html } from "../html";
import { productName, unitName, type Catalog, type Lang } from "../i18n";
import { formatterFor } from "../format";
import type { Offer } from "../lookup";
import type { TokenInfo } from "../tokens";
import { layout } from "./layout";

export interface MarketView {
  offers: Offer[];
  total: number;
  tokens: Map<string, TokenInfo>;
  /** The latest reference rate of each currency other than the dirham (a euro offer also shows dirhams). */
  rates: Map<string, ReferenceRate>;
  choices: { products: string[]; regions: string[] };
  product?: string;
  region?: string;
  /** False when the chain cannot be reached: the list comes from the index alone. */
  checked: boolean;
  previousHref: string | null;
  nextHref: string | null;
}

export function marketPage(v: MarketView, c: Catalog, hrefFor: (lang: Lang) => string): string {
  const f = formatterFor(c);
  const m = c.market;
  const option = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}" ${selected ? html` selected` : ""}>${label}</option>`;
  const form = html`<form class="filters" method="get" action="/market">
    <input type="hidden" name="lang" value="${c.lang}" />
    <label
      >${m.product}<select name="product">
        ${option("", m.all, v.product === undefined)}${v.choices.products.map((p) =>
          option(p, productName(c, p), p === v.product),
        )}
      </select></label
    >
    <label
      >${m.region}<select name="region">
        ${option("", m.all, v.region === undefined)}${v.choices.regions.map((r) => option(r, r, r === v.region))}
      </select></label
    >
    <button type="submit">${m.show}</button>
  </form>`;
  const offers = v.offers.map((o) => {
    const t = v.tokens.get(o.token);
    const price = t ? f.money(o.price, t) : o.price;
    const rate = t?.currency ? v.rates.get(t.currency) : undefined;
    const dirhams =
      t && rate
        ? html` <span class="note"
            >${c.sales.dirhamEquivalent(
              f.dirhams(o.price, t, rate.rateE6),
              f.amount(rate.rateE6, 6),
              rate.source,
              f.date(Number(rate.asOf)),
            )}</span
          >`
        : "";
    return html`<li class="offer" id="${`offer-${o.saleId}`}">
      <p>
        <strong><bdi>${productName(c, o.productCode)}</bdi></strong> · <bdi class="mono">${o.lotCode}</bdi>
      </p>
      <p>
        <span class="price" dir="ltr">${price}</span>${dirhams} — ${f.integer(o.quantity)}
        ${unitName(c, o.unit)}${o.buyer !== ZeroAddress ? html` <span class="note">(${c.sales.reserved})</span>` : ""}
      </p>
      <p>
        ${m.cooperative}:
        <bdi>${o.cooperativeName}</bdi
        >${o.womenLed ? html` <span class="badge women">${c.cooperative.womenLed}</span>` : ""} · <bdi>${o.region}</bdi>
      </p>
      <p>
        <a class="offer-open" href="${`/market/${o.saleId}?lang=${c.lang}`}"
          >${c.buying.buy}: ${c.sales.sale(f.integer(o.saleId))}</a
        >
      </p>
      <p><a href="${`/b/${o.batchId}?lang=${c.lang}`}">${m.story} ${c.dir === "rtl" ? "←" : "→"}</a></p>
    </li>`;
  });
  const body = html`<h1>${m.title}</h1>
    <p>${m.intro}</p>
    ${v.checked ? "" : html`<div class="banner warn" role="status">${m.uncheckedNotice}</div>`}
    <section>${form}</section>
    <section aria-live="polite">
      <p class="note">${m.count(v.total)}</p>
      ${
        offers.length === 0
          ? html`<p>${m.none}</p>`
          : html`<ul class="plain">
              ${offers}
            </ul>`
      }
      ${
        v.previousHref || v.nextHref
          ? html`<p class="pager">
              ${v.previousHref ? html`<a href="${v.previousHref}">${m.previous}</a>` : html`<span></span>`}${
                v.nextHref ? html`<a href="${v.nextHref}">${m.next}</a>` : ""
              }
            </p>`
          : ""
      }
    </section>
    <p class="note">${m.fundHint}</p>`;
  return layout({ c, title: m.title, hrefFor, body });
}
