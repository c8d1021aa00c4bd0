/**
 * The /stats page: the regional figures as readable tables and bar charts drawn here as inline SVG
 * (no script, no external asset; the CSP allows neither). Suppressed figures show "—" (see the
 * privacy rule in compute.ts).
 */
import { html, type Html } from "../pages/html";
import { formatterFor } from "../pages/format";
import { productName, unitName, type Catalog, type Lang } from "../pages/i18n";
import { layout } from "../pages/views/layout";
import { figureRow, table } from "../pages/views/table";
import { currencyLabel, moneyCell, NO_RATES, rateNote, type RateLookup } from "../pages/views/money";
import { chartFigure, PALETTE } from "./chart";
import type { AreaStats, MonthCell, Stats } from "./compute";

interface Series {
  name: string;
  /** null: suppressed (drawn as a dash on the axis). */
  values: (number | null)[];
}

/** One figure of a month (null: suppressed). */
type MonthFigure = (m: MonthCell) => number | null;

/** A grouped bar chart: one group per month, one bar per series. */
export function barChart(title: string, months: string[], series: Series[], c: Catalog): Html {
  const width = 640;
  const left = 40;
  const top = 12;
  const plotHeight = 150;
  const legendRows = Math.ceil(series.length / 3);
  const height = top + plotHeight + 28 + legendRows * 20 + 6;
  const plotWidth = width - left - 10;
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const groupWidth = plotWidth / Math.max(1, months.length);
  const barWidth = Math.max(2, (groupWidth * 0.8) / Math.max(1, series.length));
  const y = (v: number) => top + plotHeight - (v / max) * plotHeight;
  const labelEvery = Math.max(1, Math.ceil(months.length / 12));
  const f = formatterFor(c);
  const grid = [0, Math.round(max / 2), max].map(
    (v) =>
      html`<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#eadfd3" /><text
          x="${left - 4}"
          y="${y(v) + 4}"
          text-anchor="end"
          font-size="12"
          fill="#6b5a4c"
          >${f.integer(v)}</text
        >`,
  );
  const bars = months.map((month, i) => {
    const x0 = left + i * groupWidth + groupWidth * 0.1;
    const group = series.map((s, j) => {
      const v = s.values[i];
      const x = x0 + j * barWidth;
      const color = PALETTE[j % PALETTE.length];
      if (v === null)
        return html`<text
          x="${x + barWidth / 2}"
          y="${top + plotHeight - 2}"
          text-anchor="middle"
          font-size="12"
          fill="${color}"
          >—<title>${s.name} · ${month}: ${c.stats.suppressed}</title></text
        >`;
      return html`<rect
        x="${x}"
        y="${y(v)}"
        width="${Math.max(1, barWidth - 1)}"
        height="${top + plotHeight - y(v)}"
        fill="${color}"
        ><title>${s.name} · ${month}: ${f.integer(v)}</title></rect
      >`;
    });
    const label =
      i % labelEvery === 0
        ? html`<text
            x="${x0 + (groupWidth * 0.8) / 2}"
            y="${top + plotHeight + 16}"
            text-anchor="middle"
            font-size="12"
            fill="#2b2118"
            >${month}</text
          >`
        : "";
    return html`${group}${label}`;
  });
  const legend = series.map((s, j) => {
    const lx = left + (j % 3) * 200;
    const ly = top + plotHeight + 30 + Math.floor(j / 3) * 20;
    return html`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${PALETTE[j % PALETTE.length]}" /><text
        x="${lx + 16}"
        y="${ly + 11}"
        font-size="12"
        fill="#2b2118"
        >${s.name.length > 28 ? s.name.slice(0, 27) + "…" : s.name}</text
      >`;
  });
  return chartFigure(title, width, height, html`${grid}${bars}${legend}`);
}

function hasFacts(m: MonthCell): boolean {
  return m.cooperatives > 0 || m.batches > 0 || m.sales > 0;
}

function monthTable(m: MonthCell, c: Catalog, isRegion: boolean, rates: RateLookup): Html {
  const s = c.stats;
  const f = formatterFor(c);
  const hidden = html`<span class="note" aria-label="${s.suppressed}" title="${s.suppressed}">—</span>`;
  const rows: Html[] = [
    figureRow(s.cooperatives, f.integer(m.cooperatives)),
    figureRow(s.womenCooperatives, f.integer(m.womenCooperatives)),
    figureRow(isRegion ? s.members : s.contributors, m.members.suppressed ? hidden : f.integer(m.members.count ?? 0)),
    figureRow(s.batches, f.integer(m.batches)),
    ...m.quantities.map((q) =>
      figureRow(
        html`${s.quantity} (${unitName(c, q.unit)})`,
        q.suppressed || q.total === null ? hidden : html`${f.integer(q.total)} ${unitName(c, q.unit)}`,
      ),
    ),
    figureRow(s.sales, f.integer(m.sales)),
    ...m.revenue.flatMap((r) => {
      const token = { symbol: r.symbol ?? r.token.slice(0, 10), decimals: r.decimals, currency: r.currency };
      const label = currencyLabel(token);
      const gross =
        r.suppressed || r.gross === null
          ? hidden
          : token.decimals === null
            ? html`<span dir="ltr">${r.gross} ${label}</span>`
            : moneyCell(c, r.gross, { ...token, decimals: token.decimals }, rates);
      const share = r.suppressed || r.membersSharePpm === null ? hidden : f.percent(r.membersSharePpm / 100);
      return [
        figureRow(html`${s.gross} (<bdi>${label}</bdi>)`, gross),
        // A percentage of the revenue in that currency: labelled as a percentage, the currency after it.
        figureRow(html`${s.membersShare} (%, <bdi>${label}</bdi>)`, share, "members"),
      ];
    }),
  ];
  // The rate of the dirham equivalents above, once per currency shown with one.
  const notes = m.revenue
    .filter((r) => !r.suppressed && r.decimals !== null)
    .map((r) => rateNote(c, { symbol: r.symbol ?? "", decimals: r.decimals!, currency: r.currency }, rates));
  return html`${table({
    cls: "split",
    caption: { content: html`${s.month}: <span dir="ltr">${m.month}</span>`, cls: "note" },
    rows,
  })}${notes}`;
}

function areaSection(a: AreaStats, title: string, c: Catalog, isRegion: boolean, rates: RateLookup): Html {
  const months = a.months.filter(hasFacts).reverse();
  return html`<section>
    <h2><bdi>${title}</bdi></h2>
    ${
      months.length === 0
        ? html`<p>${c.stats.none}</p>`
        : months.map(
            (m, i) =>
              html`<details ${i === 0 ? html`open` : ""}>
                <summary><span dir="ltr">${m.month}</span></summary>
                ${monthTable(m, c, isRegion, rates)}
              </details>`,
          )
    }
  </section>`;
}

/** `rates`: the latest reference rate of a currency, for the dirham equivalents of revenue in another one. */
export function statsPage(
  st: Stats,
  c: Catalog,
  hrefFor: (lang: Lang) => string,
  rates: RateLookup = NO_RATES,
): string {
  const s = c.stats;
  const f = formatterFor(c);
  const regionSeries = (pick: MonthFigure) => st.regions.map((r) => ({ name: r.key, values: r.months.map(pick) }));
  const productSeries = (pick: MonthFigure) =>
    st.products.map((p) => ({ name: productName(c, p.key), values: p.months.map(pick) }));
  /** A chart per figure (`pick`), each with a bar per region or product (`series`) a month. */
  const charts = (series: (pick: MonthFigure) => Series[], figures: [string, MonthFigure][]) =>
    figures.map(([title, pick]) => barChart(title, st.months, series(pick), c));
  const empty = st.months.length === 0;
  const body = html`<h1>${s.title}</h1>
    <p class="lead">${s.intro}</p>
    <div class="banner warn" role="note"><strong>${s.privacy(st.k)}</strong></div>
    <p class="note">${s.definitions}</p>
    <p class="note">
      ${st.lastBlock === null ? "" : s.asOf(f.integer(st.lastBlock))}
      <a href="/api/v1/stats">${s.json}</a>
    </p>
    ${
      empty
        ? html`<section><p>${s.none}</p></section>`
        : html`<section>
              <h2>${s.regionsTitle}</h2>
              ${charts(regionSeries, [
                [s.chartMembers, (m) => (m.members.suppressed ? null : m.members.count)],
                [s.chartBatches, (m) => m.batches],
                [s.chartSales, (m) => m.sales],
              ])}
            </section>
            ${st.regions.map((r) => areaSection(r, r.key, c, true, rates))}
            <section>
              <h2>${s.productsTitle}</h2>
              ${charts(productSeries, [
                [s.chartBatches, (m) => m.batches],
                [s.chartSales, (m) => m.sales],
              ])}
            </section>
            ${st.products.map((p) => areaSection(p, productName(c, p.key), c, false, rates))}`
    }`;
  return layout({ c, title: s.title, hrefFor, body });
}
