/** The public list of cooperatives (/cooperatives): name, region, women's cooperative, members. */
import { html, type Html } from "../../pages/html";
import { productName, type Catalog } from "../../pages/i18n";
import { formatterFor, quantity } from "../../pages/format";
import type { Batch, Cooperative, Page } from "../../index";
import { placeLabel } from "../../../domain/regions";
import { lotPath } from "./home";

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
                    <a href="${`/cooperatives/${coop.cooperativeId}?lang=${c.lang}`}"
                      ><strong><bdi>${coop.name}</bdi></strong></a
                    >
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

/** How many of a cooperative's lots its page lists (the newest first); the rest are counted. */
export const COOPERATIVE_PAGE_LOTS = 50;

/**
 * A cooperative's public page (/cooperatives/:id): who it is (name, women's cooperative, place,
 * registration number, members, its reserve) and its lots, each linked to the page its label opens.
 */
export function cooperativePage(
  c: Catalog,
  coop: Cooperative,
  lots: Page<Pick<Batch, "batchId" | "gtin" | "lotCode" | "productCode" | "quantity" | "unit" | "productionDate">>,
): { title: string; body: Html } {
  const d = c.directory;
  const f = formatterFor(c);
  const more = lots.total - lots.items.length;
  const body = html`<h1><bdi>${coop.name}</bdi></h1>
    ${coop.womenLed ? html`<p><span class="badge women">${c.cooperative.womenLed}</span></p>` : ""}
    <dl class="facts">
      <dt>${c.cooperative.region}</dt>
      <dd><bdi>${placeLabel(coop.region, c.lang)}</bdi></dd>
      <dt>${d.registration}</dt>
      <dd><bdi dir="ltr" class="code">${coop.registrationNumber}</bdi></dd>
      <dt>${c.cooperative.title}</dt>
      <dd>${c.cooperative.members(coop.memberCount)} · ${c.cooperative.reserveRate(f.percent(coop.reserveBps))}</dd>
    </dl>
    <p class="note">${d.since(f.date(coop.chain.blockTime))}</p>
    <section aria-labelledby="lots-title">
      <h2 id="lots-title">${d.lotsTitle(lots.total)}</h2>
      ${
        lots.items.length === 0
          ? html`<p>${d.noLots}</p>`
          : html`<ul class="links">
                ${lots.items.map(
                  (b) =>
                    html`<li data-batch="${b.batchId}">
                      <a href="${`${lotPath(b)}?lang=${c.lang}`}"
                        >${productName(c, b.productCode)} · <bdi dir="ltr" class="code">${b.lotCode}</bdi></a
                      >
                      <span class="note"
                        >${quantity(c, b.quantity, b.unit)}${b.productionDate > 0 ? html` · ${f.date(b.productionDate)}` : ""}</span
                      >
                    </li>`,
                )}
              </ul>
              ${more > 0 ? html`<p class="note">${d.moreLots(more)}</p>` : ""}`
      }
    </section>`;
  return { title: coop.name, body };
}
