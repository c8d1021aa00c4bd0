/**
 * The tables of the public and audit pages, written one way: a table of figures (one labelled figure
 * a row, as on the verify, stats and audit pages) and a table of records (column headings, then a row
 * a record). A table wider than a phone sits in a region the keyboard can scroll (WCAG 2.1.1: a
 * scrollable region must be focusable), named for screen readers.
 */
import { html, join, type Html, type Renderable } from "../html";

/** One line of a table of figures: its label as the row's heading, the figure right-aligned; `cls` marks the line. */
export function figureRow(label: Renderable, value: Renderable, cls = ""): Html {
  return html`<tr${cls === "" ? "" : html` class="${cls}"`}>
    <th scope="row">${label}</th>
    <td class="num">${value}</td>
  </tr>`;
}

export interface TableSpec {
  /** The table's classes (e.g. "split contributors"). */
  cls: string;
  /** `data-*` attributes of the table (e.g. `{ token: address }` → `data-token="…"`). */
  data?: Readonly<Record<string, string>>;
  caption?: { content: Renderable; cls?: string };
  /** Column headings; none for a table of figures, whose rows carry their own headings. */
  head?: readonly Renderable[];
  /** The rows: `figureRow`s, or `<tr>`s of a record each. */
  rows: Renderable;
}

export function table(t: TableSpec): Html {
  const data = Object.entries(t.data ?? {}).map(([k, v]) => html`data-${k}="${v}"`);
  const attributes = join([html`class="${t.cls}"`, ...data], " ");
  const caption =
    t.caption === undefined
      ? ""
      : html`<caption${t.caption.cls === undefined ? "" : html` class="${t.caption.cls}"`}>
          ${t.caption.content}
        </caption>`;
  const head =
    t.head === undefined
      ? ""
      : html`<thead>
          <tr>
            ${t.head.map((h) => html`<th scope="col">${h}</th>`)}
          </tr>
        </thead>`;
  return html`<table ${attributes}>
    ${caption}${head}
    <tbody>
      ${t.rows}
    </tbody>
  </table>`;
}

/** `content` (a wide table) in a region the keyboard can scroll sideways, named `label`. */
export function scrollRegion(label: string, content: Html): Html {
  return html`<div class="scroll" tabindex="0" role="region" aria-label="${label}">${content}</div>`;
}

/** A table of records in a scrollable region named `label`. */
export function scrollTable(label: string, t: TableSpec): Html {
  return scrollRegion(label, table(t));
}
