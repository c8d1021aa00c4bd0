/**
 * What the auditors' pages show (server/audit/pages.ts serves them): a sale's audit, a cooperative's
 * over a period, the home's lists. The same facts as the JSON audit, as readable tables, with the
 * `consistent` verdict first and, for a cooperative, a bar chart of each member's share of the period's
 * sales (what she is owed, claimed or not), drawn here as inline SVG (no script, no external asset). No
 * Express here: views only.
 */
import type { Sale } from "../index/queries";
import { html, type Html, type Renderable } from "../pages/html";
import { formatterFor } from "../pages/format";
import { productName, type Catalog, type Lang } from "../pages/i18n";
import { figureRow, scrollTable, table } from "../pages/views/table";
import { currencyLabel, money, moneyCell, moneyText, NO_RATES, rateNote, type RateLookup } from "../pages/views/money";
import type { MoneyToken } from "../pages/format";
import type { Reconciliation } from "../services/payouts";
import { chartFigure, PALETTE } from "../stats/chart";
import type { CooperativeAudit } from "./cooperative";
import type { Discrepancy, SaleAudit, TokenRef, TransactionStep } from "./sale";

/** Sales and claims on one page of a cooperative's audit. */
export const PAGE_SIZE = 100;
/** Sales listed on the audit home per page, newest first. */
export const HOME_PAGE_SIZE = 20;

export interface AuditView {
  title: string;
  body: Html;
}

function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

function stateName(c: Catalog, state: string): string {
  return c.sales.states[state as keyof Catalog["sales"]["states"]] ?? state;
}

/**
 * A step of the sale in the reader's words: named by the state it leads to ("funded" by Funded), the
 * buyer's receipt ("confirmed", no state of its own) and a member's claim by what the tables call them.
 */
function stepName(c: Catalog, step: TransactionStep): string {
  if (step === "confirmed") return c.sales.confirmed;
  if (step === "claim") return c.audit.claimed;
  return stateName(c, step.charAt(0).toUpperCase() + step.slice(1));
}

/** An address shortened for a phone, whole in its tooltip (and in the CSV, the pack and the JSON). */
function addressNote(a: string): Html {
  return html`<bdi class="mono note" dir="ltr" title="${a}">${shortAddress(a)}</bdi>`;
}

export function banner(tone: "ok" | "bad" | "warn", id: string, title: string, text: string): Html {
  return html`<div class="banner ${tone}" role="alert" id="${id}"><strong>${title}</strong>${text}</div>`;
}

/** A token as money: null when its decimals could not be read (its amounts are then its smallest unit). */
function moneyToken(token: TokenRef): MoneyToken | null {
  return token.decimals === null ? null : { symbol: token.symbol, decimals: token.decimals, currency: token.currency };
}

/**
 * An amount as money in the token's currency, its dirham equivalent under it for another currency;
 * the exact integer an auditor compares with the chain is in `data-raw` (and in the JSON and CSV), not
 * shown. A token whose decimals are unknown shows that integer and its symbol: nothing else is known.
 */
function amount(c: Catalog, raw: string, token: TokenRef, rates: RateLookup = NO_RATES): Html {
  const t = moneyToken(token);
  if (t === null) return html`<span dir="ltr" data-raw="${raw}">${raw} <bdi>${token.symbol}</bdi></span>`;
  return html`<span class="amount" data-raw="${raw}">${moneyCell(c, raw, t, rates)}</span>`;
}

/** Under a table of amounts in `token`: the reference rate of their dirham equivalents. */
function rateUnder(c: Catalog, token: TokenRef, rates: RateLookup): Html | "" {
  const t = moneyToken(token);
  return t === null ? "" : rateNote(c, t, rates);
}

function section(heading: Renderable, content: Renderable): Html {
  return html`<section>
    <h2>${heading}</h2>
    ${content}
  </section>`;
}

/** The query of a cooperative's page for a period (dates from its form, the offset of its page of sales). */
export function periodQuery(p: { from?: string; to?: string; offset: number }, lang?: Lang): string {
  const q = new URLSearchParams(lang === undefined ? {} : { lang });
  q.set("offset", String(p.offset));
  if (p.from) q.set("from", p.from);
  if (p.to) q.set("to", p.to);
  return q.toString();
}

function verdict(c: Catalog, consistent: boolean, discrepancies: Discrepancy[]): Html {
  const a = c.audit;
  if (consistent) return banner("ok", "consistent", a.consistent, a.consistentText);
  const rows = discrepancies.map(
    (d) =>
      html`<tr>
        <td class="num">${d.saleId}</td>
        <td class="mono" dir="ltr">${d.field}</td>
        <td class="mono" dir="ltr">${d.index ?? "—"}</td>
        <td class="mono" dir="ltr">${d.chain ?? "—"}</td>
      </tr>`,
  );
  return html`${banner("bad", "inconsistent", a.inconsistent, a.inconsistentText(discrepancies.length))}
  ${section(a.discrepancies, table({ cls: "split discrepancies", head: ["#", a.field, a.index, a.chain], rows }))}`;
}

function saleFigures(a: SaleAudit, c: Catalog, rates: RateLookup): Html {
  const t = c.audit;
  const f = formatterFor(c);
  const money = (raw: string) => amount(c, raw, a.token, rates);
  const code = a.token.currency && a.token.currency !== a.token.symbol ? html` · <bdi>${a.token.currency}</bdi>` : "";
  const currency = html`<bdi>${a.token.symbol}</bdi>${code}
    <span class="mono" title="${a.token.address}" data-address="${a.token.address}"
      >${shortAddress(a.token.address)}</span
    >`;
  return html`${table({
    cls: "split figures",
    rows: [
      figureRow(t.state, stateName(c, a.state)),
      figureRow(c.batch.lot, html`<span dir="ltr">${a.lotCode ?? a.batchId}</span>`),
      figureRow(t.currency, currency),
      figureRow(t.gross, money(a.gross), "gross"),
      figureRow(`${t.fee} (${f.percent(a.feeBps)})`, money(a.fee), "fee"),
      figureRow(`${t.reserve} (${f.percent(a.reserveBps)})`, money(a.reserve), "reserve"),
      figureRow(t.net, money(a.net), "members net"),
      a.refund ? figureRow(t.refund, money(a.refund.amount), "refund") : "",
      figureRow(t.remainder, money(a.remainder.amount), "remainder"),
    ],
  })}${rateUnder(c, a.token, rates)}`;
}

/**
 * `downloads`, when given, is shown right after the verdict, where an auditor looks first; `rates`
 * gives an amount in another currency than the dirham its dirham equivalent.
 */
export function saleAuditPage(
  a: SaleAudit,
  c: Catalog,
  downloads: Html | "" = "",
  rates: RateLookup = NO_RATES,
): AuditView {
  const t = c.audit;
  const f = formatterFor(c);
  const money = (raw: string) => amount(c, raw, a.token, rates);
  const title = t.sale(String(a.saleId));
  const contributors = scrollTable(t.contributors, {
    cls: "split contributors",
    head: [t.member, t.weight, t.share, t.claimed, t.claimable],
    rows: a.contributors.map(
      (x) =>
        html`<tr data-account="${x.account}">
          <th scope="row"><bdi>${x.displayName ?? shortAddress(x.account)}</bdi><br />${addressNote(x.account)}</th>
          <td class="num">${f.integer(x.weight)}</td>
          <td class="num share">${money(x.share)}</td>
          <td class="num">${money(x.claimed)}</td>
          <td class="num">${money(x.claimable)}</td>
        </tr>`,
    ),
  });
  const names = new Map(a.contributors.map((x) => [x.account.toLowerCase(), x.displayName]));
  // Words first (the step, who, how much), the transaction's hash under them: a phone keeps the
  // block and log columns readable instead of a column of hash fragments.
  const transactions = scrollTable(t.transactions, {
    cls: "split transactions",
    head: [t.step, t.block, t.logIndex],
    rows: a.transactions.map(
      (x) =>
        html`<tr data-step="${x.step}">
          <td>
            <strong>${stepName(c, x.step)}</strong>${
              x.account ? html` · <bdi>${names.get(x.account.toLowerCase()) ?? shortAddress(x.account)}</bdi>` : ""
            }${x.amount !== undefined ? html` · ${money(x.amount)}` : ""}<br /><span class="note"
              >${t.tx} <span class="mono" dir="ltr">${x.txHash}</span></span
            >
          </td>
          <td class="num">${x.blockNumber}</td>
          <td class="num">${x.logIndex}</td>
        </tr>`,
    ),
  });
  const body = html`<h1>${title}</h1>
    ${verdict(c, a.consistent, a.discrepancies)} ${downloads} ${section(t.figures, saleFigures(a, c, rates))}
    ${section(`${t.contributors} (${f.integer(a.contributors.length)})`, contributors)}
    ${section(t.transactions, transactions)}`;
  return { title, body };
}

/** A horizontal bar chart: one bar per member, its length proportional to her share of the sales. */
export function memberChart(
  c: Catalog,
  token: TokenRef,
  bars: { label: string; account: string; value: bigint }[],
): Html {
  const title = c.audit.chart(currencyLabel(token));
  // Drawn to fit a 360 px phone's card (about 294 px): a wider chart scrolls, and in Arabic it opens
  // scrolled to its end, showing bars without the names beside them.
  const width = 288;
  const labelWidth = 96;
  const valueWidth = 96;
  const rowHeight = 20;
  const top = 6;
  const plot = width - labelWidth - valueWidth - 10;
  const height = top + bars.length * rowHeight + 6;
  const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 1n);
  const money = moneyToken(token);
  const shown = (v: bigint) => (money === null ? `${v} ${token.symbol}` : moneyText(c, v, money));
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight;
    const w = b.value <= 0n ? 0 : Math.max(1, Number((b.value * 10_000n) / max) / (10_000 / plot));
    const label = b.label.length > 13 ? b.label.slice(0, 12) + "…" : b.label;
    return html`<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end" font-size="12" fill="#2b2118">${label}</text
      ><rect
        class="bar"
        x="${labelWidth}"
        y="${y + 3}"
        width="${w.toFixed(2)}"
        height="${rowHeight - 6}"
        fill="${PALETTE[i % PALETTE.length]}"
        ><title>${b.label} (${b.account}): ${shown(b.value)}</title></rect
      ><text x="${labelWidth + w + 4}" y="${y + 14}" font-size="12" fill="#6b5a4c">${shown(b.value)}</text>`;
  });
  return chartFigure(title, width, height, rows);
}

/** The period's totals, a table per currency that had a sale or still holds a reserve. */
function totals(a: CooperativeAudit, c: Catalog, rates: RateLookup): Html[] {
  const t = c.audit;
  const f = formatterFor(c);
  // A currency whose every amount is zero (a sale only offered so far) would be a table of zeros: its
  // sale is still in the list of sales below.
  const amounts = (x: CooperativeAudit["tokens"][number]) =>
    [x.gross, x.refunded, x.claimed, x.outstanding, x.reserveBalance].some((v) => BigInt(v) !== 0n);
  if (a.sales.total === 0 && !a.tokens.some(amounts)) return [html`<p>${t.noSales}</p>`];
  return a.tokens.filter(amounts).map((x) => {
    const money = (raw: string) => amount(c, raw, x.token, rates);
    return html`${scrollTable(t.totals, {
      cls: "split totals",
      data: { token: x.token.address },
      caption: { content: html`<bdi>${currencyLabel(x.token)}</bdi>` },
      rows: [
        figureRow(t.sales, f.integer(x.sales)),
        figureRow(t.gross, money(x.gross)),
        figureRow(t.fee, money(x.fee)),
        figureRow(t.reserve, money(x.reserve)),
        figureRow(t.net, money(x.net), "members"),
        figureRow(t.refund, money(x.refunded)),
        figureRow(t.claimed, money(x.claimed)),
        figureRow(t.outstanding, money(x.outstanding)),
        figureRow(t.reserveBalance, money(x.reserveBalance)),
      ],
    })}${rateUnder(c, x.token, rates)}`;
  });
}

/** Each member's share of the period's sales (claimed or not), a chart and a table per currency. */
function members(a: CooperativeAudit, c: Catalog, rates: RateLookup): Html[] {
  const t = c.audit;
  const byToken = new Map<string, { token: TokenRef; members: CooperativeAudit["members"] }>();
  for (const m of a.members) {
    // Nothing shared, claimed or left in this currency over the period: no chart of zeros.
    if ([m.shares, m.claimed, m.claimable].every((v) => BigInt(v) === 0n)) continue;
    const entry = byToken.get(m.token.address) ?? { token: m.token, members: [] };
    entry.members.push(m);
    byToken.set(m.token.address, entry);
  }
  return [...byToken.values()].map(({ token, members }) => {
    const money = (raw: string) => amount(c, raw, token, rates);
    const name = (m: { displayName?: string | null; account: string }) => m.displayName ?? shortAddress(m.account);
    const bars = members.map((m) => ({ label: name(m), account: m.account, value: BigInt(m.shares) }));
    return html`${memberChart(c, token, bars)}
    ${scrollTable(t.members, {
      cls: "split members-table",
      data: { token: token.address },
      head: [t.member, t.share, t.claimed, t.claimable],
      rows: members.map(
        (m) =>
          html`<tr data-account="${m.account}">
            <th scope="row"><bdi>${name(m)}</bdi></th>
            <td class="num">${money(m.shares)}</td>
            <td class="num">${money(m.claimed)}</td>
            <td class="num">${money(m.claimable)}</td>
          </tr>`,
      ),
    })}${rateUnder(c, token, rates)}`;
  });
}

/** The period's page of sales, each linked to its own audit. */
function sales(a: CooperativeAudit, c: Catalog, rates: RateLookup): Html {
  const t = c.audit;
  if (a.sales.items.length === 0) return html`<p>${t.noSales}</p>`;
  return scrollTable(t.sales, {
    cls: "split sales",
    head: ["#", t.state, t.gross, t.fee, t.reserve, t.net, t.consistent],
    rows: a.sales.items.map(
      (s) =>
        html`<tr>
          <td><a href="${`/audit/sales/${s.saleId}?lang=${c.lang}`}">${s.saleId}</a></td>
          <td>${stateName(c, s.state)}</td>
          <td class="num">${amount(c, s.gross, s.token, rates)}</td>
          <td class="num">${amount(c, s.fee, s.token, rates)}</td>
          <td class="num">${amount(c, s.reserve, s.token, rates)}</td>
          <td class="num">${amount(c, s.net, s.token, rates)}</td>
          <td>${s.consistent ? "✓" : html`<strong>✗</strong>`}</td>
        </tr>`,
    ),
  });
}

type ReconciliationLine = Reconciliation["members"][number];
const PAYOUT_COLUMNS = ["entitled", "paid", "confirmed", "contested", "outstanding"] as const;

/** One member's (or the totals') figures in one token: exact integers in `data-raw`, money shown. */
function payoutCells(c: Catalog, row: ReconciliationLine, rates: RateLookup): Html[] {
  const token: TokenRef = {
    address: row.token,
    symbol: row.currency ?? shortAddress(row.token),
    decimals: row.decimals,
    currency: row.currency,
  };
  return PAYOUT_COLUMNS.map((k) => {
    const raw = row[k];
    // A negative outstanding is an advance her shares do not cover yet: said so, in words.
    const shown =
      k === "outstanding" && BigInt(raw) < 0n
        ? html`<span class="advance" data-raw="${raw}"
            >${c.auditPayouts.advance(moneyText(c, -BigInt(raw), moneyToken(token), token.symbol))}</span
          >`
        : amount(c, raw, token, rates);
    return html`<td class="${`num ${k}`}">${shown}</td>`;
  });
}

/**
 * The cooperative's payouts to its members (services.payouts.reconciliation): per member and token,
 * entitled, paid, confirmed, contested, outstanding; a table per token with its totals, and the CSV.
 */
export function payoutsSection(c: Catalog, r: Reconciliation, csvHref: string, rates: RateLookup = NO_RATES): Html {
  const p = c.auditPayouts;
  const head = [c.audit.member, p.entitled, p.paid, p.confirmedColumn, p.contested, p.outstanding];
  const tables = r.tokens.map((t) => {
    const rows = r.members.filter((m) => m.token === t.token);
    const token: TokenRef = {
      address: t.token,
      symbol: t.currency ?? t.token,
      decimals: t.decimals,
      currency: t.currency,
    };
    return html`${scrollTable(p.auditTitle, {
      cls: "split payouts-table",
      data: { token: t.token },
      caption: { content: html`<bdi>${currencyLabel(token)}</bdi>` },
      head,
      rows: [
        ...rows.map(
          (m) =>
            html`<tr data-account="${m.member}">
              <th scope="row">
                <bdi>${m.displayName ?? shortAddress(m.member)}</bdi>${
                  m.throughCooperative ? html`<br /><span class="note">${p.throughCooperative}</span>` : ""
                }
              </th>
              ${payoutCells(c, m, rates)}
            </tr>`,
        ),
        html`<tr class="total" data-account="*">
          <th scope="row">${p.total}</th>
          ${payoutCells(c, { ...t.totals, ...t, member: "*" }, rates)}
        </tr>`,
      ],
    })}${rateUnder(c, token, rates)}`;
  });
  return html`<section id="payouts" aria-labelledby="payouts-title">
    <h2 id="payouts-title">${p.auditTitle}</h2>
    <p class="note">${p.auditIntro}</p>
    ${r.tokens.length === 0 ? html`<p>${p.none}</p>` : tables}
    <p><a id="reconciliation-csv" href="${csvHref}" download>${p.csv}</a></p>
  </section>`;
}

export function cooperativeAuditPage(
  a: CooperativeAudit,
  c: Catalog,
  query: { from?: string; to?: string; offset: number },
  downloads: Html | "" = "",
  more: { rates?: RateLookup; payouts?: Html } = {},
): AuditView {
  const rates = more.rates ?? NO_RATES;
  const t = c.audit;
  const f = formatterFor(c);
  const title = t.cooperative(a.name);
  const next = a.sales.offset + a.sales.limit < a.sales.total || a.claims.offset + a.claims.limit < a.claims.total;
  const nextHref = `/audit/cooperatives/${a.cooperativeId}?${periodQuery({ ...query, offset: query.offset + PAGE_SIZE }, c.lang)}`;
  const body = html`<h1><bdi>${title}</bdi></h1>
    <form class="filters" method="get" action="${`/audit/cooperatives/${a.cooperativeId}`}">
      <input type="hidden" name="lang" value="${c.lang}" />
      <label>${t.from} <input type="date" name="from" value="${query.from ?? ""}" /></label>
      <label>${t.to} <input type="date" name="to" value="${query.to ?? ""}" /></label>
      <button type="submit">${t.open}</button>
    </form>
    <p class="note">${t.period}: <span dir="ltr">${a.period.from ?? "…"} → ${a.period.to ?? "…"}</span></p>
    ${verdict(c, a.consistent, a.discrepancies)} ${downloads} ${section(t.totals, totals(a, c, rates))}
    ${section(t.members, members(a, c, rates))} ${more.payouts ?? ""}
    ${section(
      `${t.sales} (${f.integer(a.sales.total)})`,
      html`${sales(a, c, rates)} ${next ? html`<p><a href="${nextHref}">${t.more}</a></p>` : ""}`,
    )} `;
  return { title, body };
}

/** A sale of the audit home, in words. */
export interface HomeSale {
  sale: Sale;
  productCode: string | null;
  lotCode: string | null;
  cooperativeName: string;
  token: TokenRef;
}

function homeSale(c: Catalog, x: HomeSale): Html {
  const f = formatterFor(c);
  const token = moneyToken(x.token);
  const price = moneyText(c, x.sale.price, token, x.token.symbol);
  return html`<li data-sale="${x.sale.saleId}">
    <a id="${`audit-sale-${x.sale.saleId}`}" href="${`/audit/sales/${x.sale.saleId}?lang=${c.lang}`}"
      >${c.roles3.saleTitle(f.integer(x.sale.saleId))}${
        x.productCode === null ? "" : html` · <bdi>${productName(c, x.productCode)}</bdi>`
      }</a
    ><span class="note"
      >${x.lotCode === null ? "" : html`${c.batch.lot} <bdi dir="ltr">${x.lotCode}</bdi> · `}<bdi
        >${x.cooperativeName}</bdi
      ></span
    ><span class="note"
      ><strong class="state">${stateName(c, x.sale.state)}</strong> ·
      <span class="price"
        >${token === null ? html`<bdi dir="ltr">${price}</bdi>` : money(c, x.sale.price, token)}</span
      ></span
    >
  </li>`;
}

/** The audit home's lists: every cooperative, then a page of sales, newest first, with "next" and "previous". */
export function auditHomeLists(
  c: Catalog,
  m: {
    cooperatives: { cooperativeId: number; name: string; region: string }[];
    sales: HomeSale[];
    total: number;
    offset: number;
  },
): Html {
  const t = c.roles3;
  const pageLink = (id: string, offset: number, text: string) =>
    html`<p><a id="${id}" href="${`/audit?lang=${c.lang}${offset > 0 ? `&offset=${offset}` : ""}`}">${text}</a></p>`;
  const cooperatives = m.cooperatives.map(
    (x) =>
      html`<li>
        <a
          id="${`audit-cooperative-${x.cooperativeId}`}"
          href="${`/audit/cooperatives/${x.cooperativeId}?lang=${c.lang}`}"
          ><bdi>${x.name}</bdi></a
        ><span class="note"><bdi>${x.region}</bdi></span>
      </li>`,
  );
  return html`<section aria-labelledby="audit-coops-title">
      <h2 id="audit-coops-title">${t.auditCooperatives}</h2>
      ${
        m.cooperatives.length === 0
          ? html`<p>${t.noCooperatives}</p>`
          : html`<ul class="links" id="audit-cooperatives">
              ${cooperatives}
            </ul>`
      }
    </section>
    <section aria-labelledby="audit-sales-title">
      <h2 id="audit-sales-title">${t.auditSales}</h2>
      <p id="audit-sale-count">${t.auditSaleCount(m.total)}</p>
      ${
        m.sales.length === 0
          ? html`<p>${t.noSales}</p>`
          : html`<ul class="links" id="audit-sales">
              ${m.sales.map((x) => homeSale(c, x))}
            </ul>`
      }
      ${m.offset > 0 ? pageLink("audit-sales-previous", Math.max(0, m.offset - HOME_PAGE_SIZE), t.previousSales) : ""}
      ${m.offset + HOME_PAGE_SIZE < m.total ? pageLink("audit-sales-next", m.offset + HOME_PAGE_SIZE, t.nextSales) : ""}
    </section>`;
}

/** Links to the downloads of a sale (CSV, evidence pack) or of a cooperative's period (CSV). */
export function downloadLinks(c: Catalog, links: { id: string; href: string; label: string }[]): Html {
  return html`<section aria-labelledby="downloads-title">
    <h2 id="downloads-title">${c.roles3.downloads}</h2>
    <ul class="links">
      ${links.map((l) => html`<li><a id="${l.id}" href="${l.href}" download>${l.label}</a></li>`)}
    </ul>
  </section>`;
}
