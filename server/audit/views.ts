/**
 * What the auditors' pages show (server/audit/pages.ts serves them): a sale's audit, a cooperative's
 * over a period, the home's lists. The same facts as the JSON audit, as readable tables, with the
 * `consistent` verdict first and, for a cooperative, a bar chart of what each member received over the
 * period, drawn here as inline SVG (no script, no external asset). No Express here: views only.
 */
import type { Sale } from "../index/queries";
import { html, type Html, type Renderable } from "../pages/html";
import { formatterFor } from "../pages/format";
import { productName, type Catalog, type Lang } from "../pages/i18n";
import { figureRow, scrollTable, table } from "../pages/views/table";
import { chartFigure, PALETTE } from "../stats/chart";
import type { CooperativeAudit } from "./cooperative";
import type { Discrepancy, SaleAudit, TokenRef } from "./sale";
import { placeLabel } from "../../domain/regions";

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

export function banner(tone: "ok" | "bad" | "warn", id: string, title: string, text: string): Html {
  return html`<div class="banner ${tone}" role="alert" id="${id}"><strong>${title}</strong>${text}</div>`;
}

/**
 * An amount as money (the token's currency for the reader's locale); the exact integer stays in the
 * page's data (data-raw) for a tool to compare with the chain, and in the JSON and CSV. A token whose
 * decimals cannot be read is shown in its smallest unit with its symbol rather than not at all.
 */
function amount(c: Catalog, raw: string, token: TokenRef): Html {
  const f = formatterFor(c);
  if (token.decimals === null) {
    return html`<span dir="ltr" data-raw="${raw}">${raw} <bdi>${token.symbol}</bdi></span>`;
  }
  return html`<bdi dir="ltr" data-raw="${raw}">${f.money(raw, { ...token, decimals: token.decimals })}</bdi>`;
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
  const f = formatterFor(c);
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
  return html`${banner("bad", "inconsistent", a.inconsistent, a.inconsistentText(f.integer(discrepancies.length)))}
  ${section(a.discrepancies, table({ cls: "split discrepancies", head: ["#", a.field, a.index, a.chain], rows }))}`;
}

function saleFigures(a: SaleAudit, c: Catalog): Html {
  const t = c.audit;
  const f = formatterFor(c);
  const money = (raw: string) => amount(c, raw, a.token);
  const currency = html`<bdi>${a.token.currency ?? a.token.symbol}</bdi>
    <span class="mono" title="${a.token.address}" data-address="${a.token.address}"
      >${shortAddress(a.token.address)}</span
    >`;
  return table({
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
  });
}

/** `downloads`, when given, is shown right after the verdict, where an auditor looks first. */
export function saleAuditPage(a: SaleAudit, c: Catalog, downloads: Html | "" = ""): AuditView {
  const t = c.audit;
  const f = formatterFor(c);
  const money = (raw: string) => amount(c, raw, a.token);
  const title = t.sale(String(a.saleId));
  const contributors = scrollTable(t.contributors, {
    cls: "split contributors",
    head: [t.member, t.weight, t.share, t.claimed, t.claimable],
    rows: a.contributors.map(
      (x) =>
        html`<tr data-account="${x.account}">
          <th scope="row">
            <bdi>${x.displayName ?? shortAddress(x.account)}</bdi><br /><span class="mono note">${x.account}</span>
          </th>
          <td class="num">${f.integer(x.weight)}</td>
          <td class="num share">${money(x.share)}</td>
          <td class="num">${money(x.claimed)}</td>
          <td class="num">${money(x.claimable)}</td>
        </tr>`,
    ),
  });
  const transactions = scrollTable(t.transactions, {
    cls: "split transactions",
    head: [t.step, t.tx, t.block, t.logIndex],
    rows: a.transactions.map(
      (x) =>
        html`<tr>
          <td>
            <span class="mono">${x.step}</span>${
              x.account ? html` <span class="mono note">${shortAddress(x.account)}</span>` : ""
            }${x.amount !== undefined ? html` ${money(x.amount)}` : ""}
          </td>
          <td class="mono" dir="ltr">${x.txHash}</td>
          <td class="num">${x.blockNumber}</td>
          <td class="num">${x.logIndex}</td>
        </tr>`,
    ),
  });
  const body = html`<h1>${title}</h1>
    ${verdict(c, a.consistent, a.discrepancies)} ${downloads} ${section(t.figures, saleFigures(a, c))}
    ${section(`${t.contributors} (${f.integer(a.contributors.length)})`, contributors)}
    ${section(t.transactions, transactions)}
    <p class="note"><a href="${`/api/v1/audit/sales/${a.saleId}`}">${t.json}</a></p>`;
  return { title, body };
}

/** A horizontal bar chart: one bar per member, the length proportional to what they received. */
export function memberChart(
  c: Catalog,
  token: TokenRef,
  bars: { label: string; account: string; value: bigint }[],
): Html {
  const f = formatterFor(c);
  const title = c.audit.chart(token.currency ?? token.symbol);
  const width = 640;
  const labelWidth = 180;
  const valueWidth = 140;
  const rowHeight = 20;
  const top = 6;
  const plot = width - labelWidth - valueWidth - 10;
  const height = top + bars.length * rowHeight + 6;
  const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 1n);
  const shown = (v: bigint) =>
    token.decimals === null ? `${v} ${token.symbol}` : f.money(v, { ...token, decimals: token.decimals });
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight;
    const w = b.value <= 0n ? 0 : Math.max(1, Number((b.value * 10_000n) / max) / (10_000 / plot));
    const label = b.label.length > 26 ? b.label.slice(0, 25) + "…" : b.label;
    return html`<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end" font-size="12" fill="#2b2118">${label}</text
      ><rect
        class="bar"
        x="${labelWidth}"
        y="${y + 3}"
        width="${w.toFixed(2)}"
        height="${rowHeight - 6}"
        fill="${PALETTE[i % PALETTE.length]}"
        ><title>${b.label} (${b.account}): ${shown(b.value)}</title></rect
      ><text x="${labelWidth + w + 4}" y="${y + 14}" font-size="11" fill="#6b5a4c">${shown(b.value)}</text>`;
  });
  return chartFigure(title, width, height, rows);
}

/** The period's totals, a table per currency that had a sale or still holds a reserve. */
function totals(a: CooperativeAudit, c: Catalog): Html[] {
  const t = c.audit;
  const f = formatterFor(c);
  return a.tokens
    .filter((x) => x.sales > 0 || BigInt(x.reserveBalance) > 0n)
    .map((x) => {
      const money = (raw: string) => amount(c, raw, x.token);
      return scrollTable(t.totals, {
        cls: "split totals",
        data: { token: x.token.address },
        caption: { content: html`<bdi>${x.token.currency ?? x.token.symbol}</bdi>` },
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
      });
    });
}

/** What each member received over the period, a chart and a table per currency. */
function members(a: CooperativeAudit, c: Catalog): Html[] {
  const t = c.audit;
  const byToken = new Map<string, { token: TokenRef; members: CooperativeAudit["members"] }>();
  for (const m of a.members) {
    const entry = byToken.get(m.token.address) ?? { token: m.token, members: [] };
    entry.members.push(m);
    byToken.set(m.token.address, entry);
  }
  return [...byToken.values()].map(({ token, members }) => {
    const money = (raw: string) => amount(c, raw, token);
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
    })}`;
  });
}

/** The period's page of sales, each linked to its own audit. */
function sales(a: CooperativeAudit, c: Catalog): Html {
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
          <td class="num">${amount(c, s.gross, s.token)}</td>
          <td class="num">${amount(c, s.fee, s.token)}</td>
          <td class="num">${amount(c, s.reserve, s.token)}</td>
          <td class="num">${amount(c, s.net, s.token)}</td>
          <td>${s.consistent ? "✓" : html`<strong>✗</strong>`}</td>
        </tr>`,
    ),
  });
}

export function cooperativeAuditPage(
  a: CooperativeAudit,
  c: Catalog,
  query: { from?: string; to?: string; offset: number },
  downloads: Html | "" = "",
): AuditView {
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
    ${verdict(c, a.consistent, a.discrepancies)} ${downloads} ${section(t.totals, totals(a, c))}
    ${section(t.members, members(a, c))}
    ${section(
      `${t.sales} (${f.integer(a.sales.total)})`,
      html`${sales(a, c)} ${next ? html`<p><a href="${nextHref}">${t.more}</a></p>` : ""}`,
    )}
    <p class="note"><a href="${`/api/v1/audit/cooperatives/${a.cooperativeId}`}">${t.json}</a></p>`;
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
  const price =
    x.token.decimals === null
      ? `${x.sale.price} ${x.token.symbol}`
      : f.money(x.sale.price, { ...x.token, decimals: x.token.decimals });
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
      <span class="price" dir="ltr">${price}</span></span
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
        ><span class="note"><bdi>${placeLabel(x.region, c.lang)}</bdi></span>
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
