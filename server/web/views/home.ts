/**
 * The home page (/) and its product search (/find): what CoopTrace is, in plain words; a search by the
 * lot code on the label and, optionally, the barcode number; the way to the market, the cooperatives,
 * the regional figures and sign-in.
 */
import { digitalLinkPath } from "../../../domain/gs1";
import { html, type Html } from "../../pages/html";
import { productName, type Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";
import type { FoundLot } from "../../index";
import { errorSummary, field, langForm, type FieldProblem } from "./components";

export interface HomeModel {
  /** What the visitor typed, shown again in the fields. */
  lot?: string;
  gtin?: string;
  problems: FieldProblem[];
  /** Several lots matched the search (null: no list to show). */
  matches: FoundLot[] | null;
  /** More lots matched than the list shows. */
  more: boolean;
  signedIn: boolean;
}

/** The public page of a lot: its GS1 Digital Link when it has a GTIN, else its id. */
export function lotPath(lot: Pick<FoundLot, "batchId" | "gtin" | "lotCode">): string {
  return digitalLinkPath(lot.gtin, lot.lotCode) ?? `/b/${lot.batchId}`;
}

function matchesList(c: Catalog, m: HomeModel): Html {
  if (m.matches === null) return html``;
  const f = formatterFor(c);
  return html`<section id="matches" aria-labelledby="matches-title">
    <h2 id="matches-title">${c.home.several(m.matches.length)}</h2>
    <ul class="links">
      ${m.matches.map(
        (lot) =>
          html`<li>
            <a href="${`${lotPath(lot)}?lang=${c.lang}`}"
              >${productName(c, lot.productCode)} · <bdi dir="ltr">${lot.lotCode}</bdi></a
            >
            <span class="note"><bdi>${lot.cooperativeName}</bdi> · ${f.date(lot.productionDate)}</span>
          </li>`,
      )}
    </ul>
  </section>`;
}

export function homePage(c: Catalog, m: HomeModel): { title: string; body: Html } {
  const h = c.home;
  const problem = (id: string) => m.problems.find((p) => p.field === id)?.message;
  const body = html`${errorSummary(c, m.problems)}
    <h1>${h.title}</h1>
    <p class="lead">${h.lead}</p>
    <section id="find" aria-labelledby="find-title">
      <h2 id="find-title">${h.findTitle}</h2>
      <p>${h.findText}</p>
      ${langForm(
        c,
        { method: "get", action: "/find", submit: h.find },
        html`${field({
          id: "lot",
          label: h.lot,
          hint: h.lotHint,
          value: m.lot,
          error: problem("lot"),
          ltr: true,
          attributes: html`autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="40"`,
        })}
        ${field({
          id: "gtin",
          label: h.gtin,
          hint: h.gtinHint,
          value: m.gtin,
          error: problem("gtin"),
          ltr: true,
          attributes: html`inputmode="numeric" autocomplete="off" maxlength="20"`,
        })}`,
      )}
    </section>
    ${matchesList(c, m)}
    <section aria-labelledby="how-title">
      <h2 id="how-title">${c.site.tagline}</h2>
      <ul class="links">
        ${h.points.map((p) => html`<li>${p}</li>`)}
      </ul>
    </section>
    <section aria-labelledby="explore-title">
      <h2 id="explore-title">${h.exploreTitle}</h2>
      <ul class="links">
        <li><a href="${`/market?lang=${c.lang}`}">${c.nav.market}</a><span class="note">${h.marketText}</span></li>
        <li>
          <a href="${`/cooperatives?lang=${c.lang}`}">${c.nav.cooperatives}</a
          ><span class="note">${h.cooperativesText}</span>
        </li>
        <li><a href="${`/stats?lang=${c.lang}`}">${c.nav.stats}</a><span class="note">${h.statsText}</span></li>
        <li>
          ${
            m.signedIn
              ? html`<a href="${`/w?lang=${c.lang}`}">${c.nav.workspace}</a>`
              : html`<a href="${`/signin?lang=${c.lang}`}">${c.nav.signIn}</a><span class="note">${h.signInText}</span>`
          }
        </li>
      </ul>
    </section>`;
  return { title: h.title, body };
}
