/**
 * The /stats page: the regional figures as readable tables and bar charts drawn here as inline SVG
 * (no script, no external asset; the CSP allows neither). Suppressed figures show "—" (see the
 * privacy rule in compute.ts). Places are named from the fixed list (domain/regions.ts) in the
 * reader's language; money is shown in its currency for the reader's locale, a share as a percentage.
 */
import { placeName, provinceByCode, regionByCode } from "../../domain/regions";
import { html, type Html } from "../pages/html";
import { formatterFor, quantity } from "../pages/format";
import { productName, unitName, type Catalog, type Lang } from "../pages/i18n";
import { layout } from "../pages/views/layout";
import { figureRow, table } from "../pages/views/table";
import { moneyCell, NO_RATES, rateNote, type RateLookup } from "../pages/views/money";
import { chartFigure, PALETTE } from "./chart";
import { UNKNOWN_PLACE, type AreaStats, type MonthCell, type RevenueFigure, type Stats } from "./compute";

interface Series {
  name: string;
  /** null: suppressed (drawn as a dash on the axis). */
  values: (number | null)[];
}

/** One figure of a month (null: suppressed). */
type MonthFigure = (m: MonthCell) => number | null;

/**
 * The drawing's width in SVG units: about the width a chart gets on a 360 px phone (the page's margins
 * and the section's padding taken off), so that 1 unit ≈ 1 px there and FONT stays ≥ 12 px on screen.
 */
const WIDTH = 300;
const FONT = 14;
const LEGEND_ROW = 22;
/** Characters of a legend entry that fit on one line at FONT. */
const LEGEND_CHARS = 34;

/** A grouped bar chart: one group per month, one bar per series, the legend one entry a line below. */
export function barChart(title: string, months: string[], series: Series[], c: Catalog): Html {
  const f = formatterFor(c);
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const left = 10 + FONT * 0.6 * f.integer(max).length;
  const top = 10;
  const plotHeight = 140;
  const plotWidth = WIDTH - left - 6;
  const height = top + plotHeight + FONT + 14 + series.length * LEGEND_ROW + 4;
  const groupWidth = plotWidth / Math.max(1, months.length);
  const barWidth = Math.max(2, (groupWidth * 0.8) / Math.max(1, series.length));
  const y = (v: number) => top + plotHeight - (v / max) * plotHeight;
  // A month label ("2026-05") is about 4.3 FONT wide: never more labels than fit side by side.
  const labelEvery = Math.max(1, Math.ceil(months.length / Math.max(1, Math.floor(plotWidth / (FONT * 4.6)))));
  const grid = [...new Set([0, Math.round(max / 2), max])].map(
    (v) =>
      html`<line x1="${left}" x2="${WIDTH - 6}" y1="${y(v)}" y2="${y(v)}" stroke="#eadfd3" /><text
          x="${left - 4}"
          y="${y(v) + FONT / 3}"
          text-anchor="end"
          font-size="${FONT}"
          fill="#5d4c3f"
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
          font-size="${FONT}"
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
            x="${Math.min(WIDTH - FONT * 2.2, Math.max(left + FONT * 2.2, x0 + (groupWidth * 0.8) / 2))}"
            y="${top + plotHeight + FONT + 4}"
            text-anchor="middle"
            font-size="${FONT}"
            fill="#2b2118"
            >${month}</text
          >`
        : "";
    return html`${group}${label}`;
  });
  const legendTop = top + plotHeight + FONT + 14;
  const legend = series.map((s, j) => {
    const ly = legendTop + j * LEGEND_ROW;
    const name = s.name.length > LEGEND_CHARS ? s.name.slice(0, LEGEND_CHARS - 1) + "…" : s.name;
    return html`<rect x="0" y="${ly}" width="${FONT}" height="${FONT}" fill="${PALETTE[j % PALETTE.length]}" /><text
        x="${FONT + 6}"
        y="${ly + FONT - 2}"
        font-size="${FONT}"
        fill="#2b2118"
        >${name}</text
      >`;
  });
  return chartFigure(title, WIDTH, height, html`${grid}${bars}${legend}`);
}

function hasFacts(m: MonthCell): boolean {
  return m.cooperatives > 0 || m.batches > 0 || m.sales > 0;
}

/** A region's or a province's name in the reader's language, or "not given". */
export function areaName(key: string, c: Catalog): string {
  if (key === UNKNOWN_PLACE) return c.stats.regionNotGiven;
  const place = regionByCode(key) ?? provinceByCode(key);
  return place === undefined ? key : placeName(place, c.lang);
}

/** A currency's name for the reader ("dirham marocain", "درهم مغربي"), its code when Intl has none. */
function currencyName(c: Catalog, code: string): string {
  try {
    return new Intl.DisplayNames([c.locale, "fr"], { type: "currency" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * The rows of one currency's revenue: what was paid (with its dirham equivalent at the reference rate
 * when it is not in dirhams), and the share of it that reached members, as a percentage.
 */
function revenueRows(r: RevenueFigure, c: Catalog, hidden: Html, rates: RateLookup): Html[] {
  const s = c.stats;
  const name = r.currency === null ? (r.symbol ?? r.tokens[0]?.slice(0, 10) ?? "") : currencyName(c, r.currency);
  const gross =
    r.suppressed || r.gross === null
      ? hidden
      : r.decimals === null
        ? html`<bdi dir="ltr">${r.gross} ${name}</bdi>`
        : moneyCell(c, r.gross, { symbol: r.symbol ?? name, decimals: r.decimals, currency: r.currency }, rates);
  const share =
    r.suppressed || r.membersSharePpm === null ? hidden : formatterFor(c).percent(Math.floor(r.membersSharePpm / 100));
  return [
    figureRow(html`${s.revenueIn(name)}`, gross, "revenue"),
    figureRow(html`${s.shareIn(name)}`, share, "members"),
  ];
}

function monthTable(m: MonthCell, c: Catalog, isPlace: boolean, rates: RateLookup): Html {
  const s = c.stats;
  const f = formatterFor(c);
  const hidden = html`<span class="note" aria-label="${s.suppressed}" title="${s.suppressed}">—</span>`;
  const rows: Html[] = [
    figureRow(s.cooperatives, f.integer(m.cooperatives), "cooperatives"),
    figureRow(s.womenCooperatives, f.integer(m.womenCooperatives), "women"),
    figureRow(
      isPlace ? s.members : s.contributors,
      m.members.suppressed ? hidden : f.integer(m.members.count ?? 0),
      "members-count",
    ),
    figureRow(s.batches, f.integer(m.batches), "batches"),
    ...m.quantities.map((q) =>
      figureRow(
        html`${s.quantity} (${unitName(c, q.unit)})`,
        q.suppressed || q.total === null ? hidden : html`${quantity(c, q.total, q.unit)}`,
      ),
    ),
    figureRow(s.sales, f.integer(m.sales), "sales"),
    figureRow(s.originLots, f.integer(m.originLots), "origin-lots"),
    ...m.revenue.flatMap((r) => revenueRows(r, c, hidden, rates)),
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

function areaSection(
  a: AreaStats,
  title: string,
  c: Catalog,
  place: { isPlace: boolean; dim: string; rates: RateLookup },
): Html {
  const { isPlace, dim, rates } = place;
  const months = a.months.filter(hasFacts).reverse();
  return html`<section data-dim="${dim}" data-key="${a.key}">
    <h2><bdi>${title}</bdi></h2>
    ${
      months.length === 0
        ? html`<p>${c.stats.none}</p>`
        : months.map(
            (m, i) =>
              html`<details ${i === 0 ? html`open` : ""} data-month="${m.month}">
                <summary><span dir="ltr">${m.month}</span></summary>
                ${monthTable(m, c, isPlace, rates)}
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
  const regionSeries = (pick: MonthFigure) =>
    st.regions.map((r) => ({ name: areaName(r.key, c), values: r.months.map(pick) }));
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
            ${st.regions.map((r) => areaSection(r, areaName(r.key, c), c, { isPlace: true, dim: "regions", rates }))}
            ${
              st.provinces.length === 0
                ? ""
                : html`<h2>${s.provincesTitle}</h2>
                    ${st.provinces.map((p) => areaSection(p, areaName(p.key, c), c, { isPlace: true, dim: "provinces", rates }))}`
            }
            <section>
              <h2>${s.productsTitle}</h2>
              ${charts(productSeries, [
                [s.chartBatches, (m) => m.batches],
                [s.chartSales, (m) => m.sales],
              ])}
            </section>
            ${st.products.map((p) => areaSection(p, productName(c, p.key), c, { isPlace: false, dim: "products", rates }))}`
    }`;
  return layout({ c, title: s.title, hrefFor, body });
}
