/**
 * What the inline SVG charts of the pages share (the regional figures' bars, the audit's bars per
 * member): the palette and the figure around the drawing, titled for screen readers and always drawn
 * left to right (numbers and months read that way in Arabic pages too).
 */
import { html, type Html, type Renderable } from "../pages/html";

export const PALETTE = ["#8a2846", "#d9a441", "#2e7d32", "#1f5f8b", "#6a3d9a", "#b15928", "#5d5348", "#c2185b"];

/**
 * `content` (SVG elements) in a `width` × `height` drawing at its own size, with `title` as caption. It
 * is not shrunk to a phone's width (its 12 px labels would be drawn at 5–6 px): a narrower screen
 * scrolls the figure sideways inside its own box (figure.chart in the stylesheet), never the page.
 */
export function chartFigure(title: string, width: number, height: number, content: Renderable): Html {
  // Focusable: a keyboard can scroll it when it is wider than the screen.
  return html`<figure class="chart" tabindex="0">
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox="${`0 0 ${width} ${height}`}"
      width="${width}"
      height="${height}"
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
