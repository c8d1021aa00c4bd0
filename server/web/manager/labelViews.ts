/**
 * The label print form (/w/manager/labels): which lots, the size of one pack, how many labels, the
 * label paper and the label's languages. It is sent with GET to /w/manager/labels.pdf, which answers the
 * PDF, or this form again with what to fix beside each field (labels.ts).
 */
import { html, type Html } from "../../pages/html";
import { CATALOGS, productName, unitName, type Catalog } from "../../pages/i18n";
import { LABEL_LANGS } from "../../labels/words";
import { LABEL_STOCKS } from "../../labels/pdf";
import type { LabelLot } from "../../services/labels";
import type { View } from "../page";
import { errorSummary, field, radios, select, type FieldProblem } from "../views/components";
import { quantityText } from "./kit";
import { UNITS } from "./views";

export interface LabelFormValues {
  pack: string;
  packUnit: string;
  count: string;
  stock: string;
  language1: string;
  language2: string;
  language3: string;
}

export interface LabelFormModel {
  lots: (LabelLot & { checked: boolean })[];
  values: LabelFormValues;
  problems: FieldProblem[];
}

export const DEFAULT_LABEL_VALUES: LabelFormValues = {
  pack: "",
  packUnit: "",
  count: "",
  stock: "a4-24",
  language1: "ar",
  language2: "fr",
  language3: "",
};

function lotChoices(c: Catalog, m: LabelFormModel, error: string | undefined): Html {
  const t = c.labelForm;
  return html`<fieldset
    class="${error ? "field has-error" : "field"}"
    aria-describedby="${error ? "batch-hint batch-error" : "batch-hint"}"
  >
    <legend>${t.lotsLegend}</legend>
    <span class="hint" id="batch-hint">${t.lotsHint}</span>
    ${error ? html`<span class="error-message" id="batch-error">${error}</span>` : ""}
    ${m.lots.map(
      (l, i) =>
        html`<label class="choice"
          ><input
            type="checkbox"
            ${i === 0 ? html`id="batch"` : ""}
            name="batch"
            value="${l.batchId}"
            ${l.checked ? html`checked` : ""}
          />
          <span
            >${productName(c, l.productCode)} · <bdi dir="ltr">${l.lotCode}</bdi><br /><span class="note"
              >${c.workspace.available(quantityText(c, l.available, l.unit))}</span
            ></span
          ></label
        >`,
    )}
  </fieldset>`;
}

export function labelFormPage(c: Catalog, m: LabelFormModel): View {
  const t = c.labelForm;
  const v = m.values;
  const problem = (id: string) => m.problems.find((p) => p.field === id)?.message;
  const languages: [string, string][] = LABEL_LANGS.map((l) => [l, CATALOGS[l].name]);
  const body = html`<h1>${t.title}</h1>
    <p class="lead">${t.intro}</p>
    ${errorSummary(c, m.problems)}
    ${
      m.lots.length === 0
        ? html`<p id="no-lots">${t.noLots}</p>`
        : html`<form method="get" action="/w/manager/labels.pdf" novalidate id="label-form">
            <input type="hidden" name="lang" value="${c.lang}" />
            <input type="hidden" name="form" value="1" />
            ${lotChoices(c, m, problem("batch"))}
            ${field({
              id: "pack",
              label: t.pack,
              hint: t.packHint,
              value: v.pack,
              error: problem("pack"),
              attributes: html`inputmode="decimal" autocomplete="off" maxlength="13"`,
              ltr: true,
            })}
            ${select(
              "packUnit",
              t.packUnit,
              [["", t.unitOfLot], ...UNITS.map((u): [string, string] => [u, unitName(c, u)])],
              v.packUnit,
              problem("packUnit"),
            )}
            ${field({
              id: "count",
              label: t.count,
              hint: t.countHint,
              value: v.count,
              error: problem("count"),
              attributes: html`inputmode="numeric" autocomplete="off" maxlength="7"`,
              ltr: true,
            })}
            ${radios({
              name: "stock",
              legend: t.stockLegend,
              error: problem("stock"),
              options: LABEL_STOCKS.map((s): [string, Html] => [s, html`${t.stocks[s]}`]),
              checked: v.stock,
            })}
            <fieldset class="${problem("language1") ? "field has-error" : "field"}" aria-describedby="languages-hint">
              <legend>${t.languagesLegend}</legend>
              <span class="hint" id="languages-hint">${t.languagesHint}</span>
              ${select("language1", t.language1, languages, v.language1, problem("language1"))}
              ${select("language2", t.language2, languages, v.language2)}
              ${select("language3", t.language3, [["", t.noThird], ...languages], v.language3)}
            </fieldset>
            <button type="submit" class="big">${t.submit}</button>
          </form>`
    }
    <p><a href="${`/w/manager?lang=${c.lang}`}">${c.manager.backToDashboard}</a></p>`;
  return { title: t.title, body };
}
