/**
 * What the inline SVG charts of the pages share (the regional figures' bars, the audit's bars per
 * member): the palette and the figure around the drawing, titled for screen readers and always drawn
 * left to right (numbers and months read that way in Arabic pages too).
 */
import { html, type Html, type Renderable } from "../pages/html";

export const PALETTE = ["#8a2846", "#d9a441", "#2e7d32", "#1f5f8b", "#6a3d9a", "#b15928", "#5d5348", "#c2185b"];

/** `content` (SVG elements) in a `width` × `height` drawing that scales to its container, with `title` as caption. */
export function chartFigure(title: string, width: number, height: number, content: Renderable): Html {
  return html`<figure class="chart">
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox="${`0 0 ${width} ${height}`}"
      width="100%"
      role="img"
      aria-label="${title}"
      direction="ltr"
    >
      <title>${title}</title>
      ${content}
    </svg>
    <figcaption class="note">${title}</figcaption>
  </figure>`;
}
