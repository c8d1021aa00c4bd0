/**
 * The views of lineage.ts: split a lot into new lots (a row per new lot: its code, its quantity), merge or
 * transform lots (a ticked box and a quantity per lot used, then the new lot), and their confirmations.
 */
import { html, type Html } from "../../pages/html";
import { productName, unitName, type Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";
import type { View } from "../http";
import { errorSummary, field, select, type FieldProblem } from "../views/components";
import { lotPath } from "../views/home";
import { quantityText as qty } from "./kit";
import { hidden, type BatchLine } from "./views";
import { progressBanner, type PendingWrite } from "../progress";

/** Written on the chain but not yet in the index: a plain "look again" (the script follows operations only). */
const lookAgain = (c: Catalog, again: string): Html =>
  html`<p class="banner warn">${c.manager.pending} <a href="${again}">${c.manager.lookAgain}</a></p>`;

/** Up to this many new lots per split (the contract takes 50; a form of 10 rows fits a phone). */
export const SPLIT_ROWS = 10;

const q = (c: Catalog, path: string) => `${path}?lang=${c.lang}`;
const problemOf = (problems: readonly FieldProblem[], id: string) => problems.find((p) => p.field === id)?.message;
const lotName = (c: Catalog, l: { productCode: string; lotCode: string }) =>
  html`${productName(c, l.productCode)} · <bdi dir="ltr">${l.lotCode}</bdi>`;

/** What both lineage forms are drawn from: the values sent (or suggested), their problems, the hidden fields. */
interface FormModel {
  values: Record<string, string | undefined>;
  problems: FieldProblem[];
  csrf: Html;
  once: string;
}

/** A lineage form: what to fix first, the form under its question with one button, then the way back. */
function formPage(
  c: Catalog,
  m: Omit<FormModel, "values"> & { action: string; title: string; save: string },
  fields: Html,
): View {
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="${m.action}" novalidate>
      ${hidden(c, m.csrf, m.once)}
      <h1>${m.title}</h1>
      ${fields}
      <button type="submit" class="button">${m.save}</button>
    </form>
    <p><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></p>`;
  return { title: m.title, body };
}

export function splitFormPage(c: Catalog, m: FormModel & { parent: BatchLine }): View {
  const t = c.manager2;
  const err = (id: string) => problemOf(m.problems, id);
  const unit = unitName(c, m.parent.unit);
  const rows: Html[] = [];
  for (let i = 0; i < SPLIT_ROWS; i++) {
    rows.push(
      html`<fieldset class="split-row" id="${`row-${i}`}">
        <legend>${t.newLot(formatterFor(c).integer(i + 1))}</legend>
        ${field({ id: `lotCode-${i}`, label: t.newLotCode, value: m.values[`lotCode-${i}`], error: err(`lotCode-${i}`), ltr: true, attributes: html`autocomplete="off" maxlength="20"` })}
        ${field({ id: `quantity-${i}`, label: t.quantityIn(unit), value: m.values[`quantity-${i}`], error: err(`quantity-${i}`), ltr: true, inputClass: "short", attributes: html`inputmode="numeric" autocomplete="off"` })}
      </fieldset>`,
    );
  }
  const action = `/w/manager/batches/${m.parent.batchId}/split`;
  return formPage(
    c,
    { ...m, action, title: t.splitTitle, save: t.splitSave },
    html`<p class="lead">${lotName(c, m.parent)}</p>
      <p id="left">${t.splitIntro(qty(c, m.parent.available, m.parent.unit))}</p>
      ${rows}`,
  );
}

export function splitDonePage(
  c: Catalog,
  m: {
    parent: BatchLine;
    children: BatchLine[];
    expected: number;
    pending: PendingWrite | null;
    indexing: boolean;
    again: string;
  },
): View {
  const t = c.manager2;
  const title = t.splitDoneTitle(m.expected);
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? title : c.manager.pending}</h1>
      <p>${lotName(c, m.parent)}</p>
    </div>
    ${m.pending !== null ? progressBanner(c, m.pending, c.manager.lookAgain) : m.indexing ? lookAgain(c, m.again) : ""}
    <ul class="links" id="new-lots">
      ${m.children.map(
        (x) =>
          html`<li data-batch="${x.batchId}">
            <a href="${q(c, lotPath(x))}">${lotName(c, x)}</a>
            <span class="note">${qty(c, x.quantity, x.unit)}</span>
          </li>`,
      )}
    </ul>
    <p>${t.splitDoneText}</p>
    <ul class="links">
      <li><a href="${q(c, "/w/manager/labels")}">${t.printBagLabels}</a></li>
      <li><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></li>
    </ul>`;
  return { title, body };
}

export function mergeFormPage(
  c: Catalog,
  m: FormModel & { lots: BatchLine[]; products: string[]; units: string[] },
): View {
  const t = c.manager2;
  const v = m.values;
  const err = (id: string) => problemOf(m.problems, id);
  const lots = m.lots.map((l, i) => {
    const e = err(`take-${i}`);
    const useError = i === 0 ? err("use-0") : undefined;
    return html`<div class="panel merge-lot" data-batch="${l.batchId}">
      ${useError ? html`<span class="error-message" id="use-0-error">${useError}</span>` : ""}
      <label class="choice" for="${`use-${i}`}">
        <input
          type="checkbox"
          id="${`use-${i}`}"
          name="${`use-${i}`}"
          value="${l.batchId}"
          ${v[`use-${i}`] === l.batchId ? html`checked` : ""}
          ${useError ? html`aria-describedby="use-0-error"` : ""}
        />
        <span>${lotName(c, l)}</span>
      </label>
      <p class="note">${t.left(qty(c, l.available, l.unit))}</p>
      ${field({ id: `take-${i}`, label: t.takeQuantity(unitName(c, l.unit)), value: v[`take-${i}`], error: e, ltr: true, inputClass: "short", attributes: html`inputmode="numeric" autocomplete="off"` })}
    </div>`;
  });
  return formPage(
    c,
    { ...m, action: "/w/manager/batches/merge", title: t.mergeTitle, save: t.mergeSave },
    html`<p>${t.mergeIntro}</p>
      ${m.lots.length === 0 ? html`<p id="no-lots">${t.noLotsLeft}</p>` : lots}
      <h2>${t.newLotTitle}</h2>
      ${select(
        "productCode",
        t.newProduct,
        m.products.map((p) => [p, productName(c, p)]),
        v.productCode,
        err("productCode"),
      )}
      ${field({ id: "lotCode", label: c.manager.lotCode, hint: c.manager.lotCodeHint, value: v.lotCode, error: err("lotCode"), ltr: true, attributes: html`autocomplete="off" maxlength="20"` })}
      ${field({ id: "quantity", label: t.newQuantity, value: v.quantity, error: err("quantity"), ltr: true, inputClass: "short", attributes: html`inputmode="numeric" autocomplete="off"` })}
      ${select(
        "unit",
        c.manager.unit,
        m.units.map((u) => [u, unitName(c, u)]),
        v.unit,
        err("unit"),
      )}
      ${field({ id: "origin", label: c.manager.origin, value: v.origin, error: err("origin") })}
      <div class="${err("productionDate") ? "field has-error" : "field"}">
        <label for="productionDate">${c.manager.productionDate}</label>
        ${err("productionDate") ? html`<span class="error-message" id="productionDate-error">${err("productionDate")}</span>` : ""}
        <input type="date" id="productionDate" name="productionDate" value="${v.productionDate ?? ""}" dir="ltr" />
      </div>`,
  );
}

export function mergeDonePage(
  c: Catalog,
  m: { lot: BatchLine | null; parents: (BatchLine & { drawn: string })[]; pending: PendingWrite | null; again: string },
): View {
  const t = c.manager2;
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? t.mergeDoneTitle : c.manager.pending}</h1>
      ${m.lot === null ? "" : html`<p>${lotName(c, m.lot)} · ${qty(c, m.lot.quantity, m.lot.unit)}</p>`}
    </div>
    ${m.pending !== null ? progressBanner(c, m.pending, c.manager.lookAgain) : m.lot === null ? lookAgain(c, m.again) : ""}
    ${
      m.parents.length === 0
        ? ""
        : html`<h2>${t.madeFrom}</h2>
            <ul class="links" id="made-from">
              ${m.parents.map(
                (p) =>
                  html`<li>
                    <a href="${q(c, lotPath(p))}">${lotName(c, p)}</a>
                    <span class="note">${qty(c, p.drawn, p.unit)}</span>
                  </li>`,
              )}
            </ul>`
    }
    <p>${t.mergeDoneText}</p>
    <ul class="links">
      ${
        m.lot === null
          ? ""
          : html`<li><a id="public-page" href="${q(c, lotPath(m.lot))}">${c.manager.publicPage}</a></li>
              <li><a href="${q(c, `/w/manager/batches/${m.lot.batchId}/step`)}">${c.manager.recordStep}</a></li>`
      }
      <li><a href="${q(c, "/w/manager")}">${c.manager.backToDashboard}</a></li>
    </ul>`;
  return { title: t.mergeDoneTitle, body };
}
