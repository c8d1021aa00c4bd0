/** The public list of cooperatives (/cooperatives): name, region, women's cooperative, members. */
import { html, type Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import type { Cooperative, Page } from "../../index";
import { placeLabel } from "../../../domain/regions";

export function directoryPage(
  c: Catalog,
  page: Page<Cooperative>,
  links: { previous: string | null; next: string | null },
): { title: string; body: Html } {
  const d = c.directory;
  const body = html`<h1>${d.title}</h1>
    <p class="lead">${d.intro}</p>
    <section aria-labelledby="list-title">
      <h2 id="list-title">${d.count(page.total)}</h2>
      ${
        page.items.length === 0
          ? html`<p>${d.none}</p>`
          : html`<ul class="plain coops">
              ${page.items.map(
                (coop) =>
                  html`<li data-cooperative="${coop.cooperativeId}">
                    <strong><bdi>${coop.name}</bdi></strong>
                    ${coop.womenLed ? html` <span class="badge women">${c.cooperative.womenLed}</span>` : ""}
                    <span class="note">${c.cooperative.region}: <bdi>${placeLabel(coop.region, c.lang)}</bdi></span>
                    <span class="note members">${d.members(coop.memberCount)}</span>
                  </li>`,
              )}
            </ul>`
      }
    </section>
    ${
      links.previous || links.next
        ? html`<nav class="pager" aria-label="${d.title}">
            ${links.previous ? html`<a href="${links.previous}" rel="prev">${c.market.previous}</a>` : html`<span></span>`}
            ${links.next ? html`<a href="${links.next}" rel="next">${c.market.next}</a>` : ""}
          </nav>`
        : ""
    }`;
  return { title: d.title, body };
}
