/**
 * The cooperative manager's pages: his dashboard, add a member (and print her card), record a lot with
 * who delivered what, record a step, print labels. One question per form page; every form posts with
 * its CSRF field and its once-key; errors in the summary and beside the field.
 */
import { html, type Html } from "../../pages/html";
import { progressBanner, type PendingWrite } from "../progress";
import { CATALOGS, LANGS, productName, stepName, unitName, type Catalog } from "../../pages/i18n";
import { formatterFor, quantity } from "../../pages/format";
import { onceFields } from "../forms";
import { errorSummary, field, select, type FieldProblem } from "../views/components";
import { lotPath } from "../views/home";

/** The steps a manager records, CBV terms and our own (harvesting, drying, distilling): bare names. */
export const MANAGER_STEPS = [
  "harvesting",
  "sorting",
  "drying",
  "distilling",
  "pressing",
  "cleaning",
  "weaving",
  "packing",
  "labelling",
  "inspecting",
  "storing",
  "loading",
  "shipping",
  "receiving",
] as const;

export const UNITS = ["kg", "g", "l", "ml", "pieces"] as const;

export interface BatchLine {
  batchId: string;
  productCode: string;
  lotCode: string;
  gtin: string;
  quantity: string;
  available: string;
  unit: string;
}

export interface DashboardModel {
  cooperativeName: string;
  members: { displayName: string | null; account: string; userId?: string | null }[];
  batches: BatchLine[];
  batchTotal: number;
  openSales: { saleId: number; batchId: string; state: string; quantity: string }[];
  unpaid: { displayName: string | null; productCode: string; lotCode: string; batchId: string; gtin: string }[];
}

/** The hidden fields of every write form. */
export function hidden(c: Catalog, csrf: Html, once: string): Html {
  return html`${onceFields(csrf, once)}<input type="hidden" name="lang" value="${c.lang}" />`;
}

const q = (c: Catalog, path: string) => `${path}?lang=${c.lang}`;

function problemOf(problems: readonly FieldProblem[], id: string): string | undefined {
  return problems.find((p) => p.field === id)?.message;
}

export function dashboardPage(c: Catalog, m: DashboardModel): { title: string; body: Html } {
  const t = c.manager;
  const w = c.workspace;
  const f = formatterFor(c);
  const qty = (n: string, unit: string) => `${quantity(c, n, unit)}`;
  const body = html`<h1>${t.dashboardTitle}: <bdi>${m.cooperativeName}</bdi></h1>
    <ul class="links actions">
      <li><a class="button" href="${q(c, "/w/manager/members/new")}">${t.addMember}</a></li>
      <li><a class="button" href="${q(c, "/w/manager/batches/new")}">${t.recordBatch}</a></li>
      <li><a class="button" id="merge-link" href="${q(c, "/w/manager/batches/merge")}">${c.manager2.mergeLink}</a></li>
      <li><a class="button" id="payouts-link" href="${q(c, "/w/manager/payouts")}">${c.manager2.payoutsLink}</a></li>
      <li><a id="money-link" href="${q(c, "/w/manager/money")}">${c.payouts.managerLink}</a></li>
      <li><a href="${q(c, "/w/manager/labels")}">${t.printLabels}</a><span class="note">${t.labelsText}</span></li>
    </ul>
    <section id="members" aria-labelledby="members-title">
      <h2 id="members-title">${w.membersTitle}</h2>
      <p>${w.memberCount(m.members.length)}</p>
      <ul class="plain">
        ${m.members.map(
          (x) =>
            html`<li data-account="${x.account}">
              ${x.displayName === null ? w.unnamed : html`<bdi>${x.displayName}</bdi>`}
              ${x.userId ? html`<a class="card-pdf" href="${q(c, `/w/manager/members/${x.userId}/card.pdf`)}">${c.manager2.cardPdf}</a>` : ""}
            </li>`,
        )}
      </ul>
    </section>
    <section id="batches" aria-labelledby="batches-title">
      <h2 id="batches-title">${w.batchesTitle}</h2>
      <p>${w.batchCount(m.batchTotal)}</p>
      <ul class="links">
        ${m.batches.map(
          (b) =>
            html`<li data-batch="${b.batchId}">
              <a href="${q(c, lotPath(b))}">${productName(c, b.productCode)} · <bdi dir="ltr">${b.lotCode}</bdi></a>
              <span class="note"
                >${c.batch.quantity}: ${qty(b.quantity, b.unit)} · ${w.available(qty(b.available, b.unit))}</span
              >
              <a href="${q(c, `/w/manager/batches/${b.batchId}/step`)}">${t.recordStep}</a>
              ·
              <a class="labels-link" href="${`/w/manager/labels?batch=${b.batchId}&lang=${c.lang}`}"
                >${t.printLabels}</a
              >
              ${
                BigInt(b.available) > 0n
                  ? html`·
                      <a class="sell" href="${`/w/manager/sales/new?batch=${b.batchId}&lang=${c.lang}`}"
                        >${c.buying.sell}</a
                      >
                      ·
                      <a class="split-link" href="${q(c, `/w/manager/batches/${b.batchId}/split`)}"
                        >${c.manager2.splitLink}</a
                      >
                      ·
                      <a href="${`/w/manager/batches/merge?from=${b.batchId}&lang=${c.lang}`}"
                        >${c.manager2.mergeLink}</a
                      >`
                  : ""
              }
            </li>`,
        )}
      </ul>
    </section>
    <section id="sales" aria-labelledby="sales-title">
      <h2 id="sales-title">${t.openSalesTitle}</h2>
      <p>${t.openSaleCount(m.openSales.length)}</p>
      <ul class="links">
        ${m.openSales.map(
          (s) =>
            html`<li data-sale="${String(s.saleId)}">
              ${t.saleLine(f.integer(s.saleId), c.sales.states[s.state as keyof typeof c.sales.states] ?? s.state)}
              <a class="sale-open" href="${q(c, `/w/manager/sales/${s.saleId}`)}"
                >${c.sales.sale(f.integer(s.saleId))}</a
              >
            </li>`,
        )}
      </ul>
    </section>
    <section id="unpaid" aria-labelledby="unpaid-title">
      <h2 id="unpaid-title">${t.unpaidTitle}</h2>
      <p>${t.unpaidCount(m.unpaid.length)}</p>
      ${m.unpaid.length > 0 ? html`<p><a class="button" href="${q(c, "/w/manager/payouts")}">${c.manager2.payoutsLink}</a></p>` : ""}
      <ul class="links">
        ${m.unpaid.map(
          (u) =>
            html`<li>
              ${u.displayName === null ? w.unnamed : html`<bdi>${u.displayName}</bdi>`} ·
              <a href="${q(c, lotPath(u))}">${productName(c, u.productCode)} · <bdi dir="ltr">${u.lotCode}</bdi></a>
            </li>`,
        )}
      </ul>
    </section>`;
  return { title: t.dashboardTitle, body };
}

export interface MemberFormModel {
  values: { displayName?: string; reference?: string };
  problems: FieldProblem[];
  csrf: Html;
  once: string;
}

export function memberFormPage(c: Catalog, m: MemberFormModel): { title: string; body: Html } {
  const t = c.manager;
  const pinAttrs = html`inputmode="numeric" autocomplete="off" maxlength="6" pattern="[0-9]*"`;
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="/w/manager/members" novalidate>
      ${hidden(c, m.csrf, m.once)}
      <h1>${t.memberTitle}</h1>
      ${field({ id: "displayName", label: t.memberName, value: m.values.displayName, error: problemOf(m.problems, "displayName"), attributes: html`autocomplete="off"` })}
      ${field({ id: "reference", label: t.memberReference, hint: t.memberReferenceHint, value: m.values.reference, error: problemOf(m.problems, "reference"), attributes: html`autocomplete="off"` })}
      ${field({ id: "pin", label: t.pin, hint: t.pinHint, type: "password", error: problemOf(m.problems, "pin"), attributes: pinAttrs, ltr: true })}
      ${field({ id: "pinAgain", label: t.pinAgain, type: "password", error: problemOf(m.problems, "pinAgain"), attributes: pinAttrs, ltr: true })}
      <button type="submit" class="button">${t.save}</button>
    </form>`;
  return { title: t.memberTitle, body };
}

export function memberDonePage(
  c: Catalog,
  m: { displayName: string; cardSvg: string | null; pending: PendingWrite | null; memberUserId?: string | null },
): { title: string; body: Html } {
  const t = c.manager;
  const title = t.memberDoneTitle(m.displayName);
  const img =
    m.cardSvg === null
      ? ""
      : html`<figure class="member-card">
          <img
            id="member-card"
            src="${`data:image/svg+xml;base64,${Buffer.from(m.cardSvg, "utf8").toString("base64")}`}"
            alt="${title}"
          />
        </figure>`;
  const body = html`<div class="panel confirmation">
      <h1>${m.pending === null ? html`<bdi>${title}</bdi>` : t.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, t.lookAgain)}
    <p>${t.memberDoneText}</p>
    <p><strong>${t.pinNeverShare}</strong></p>
    ${img}
    <ul class="links no-print">
      ${
        m.memberUserId
          ? html`<li id="card-pdf">
              ${c.manager2.cardPdf}:
              ${LANGS.map(
                (l) =>
                  html`<a lang="${l}" href="${`/w/manager/members/${m.memberUserId}/card.pdf?lang=${l}`}"
                    >${CATALOGS[l].name}</a
                  > `,
              )}
            </li>`
          : ""
      }
      <li><a href="${q(c, "/w/manager/members/new")}">${t.addAnother}</a></li>
      <li><a href="${q(c, "/w/manager")}">${t.backToDashboard}</a></li>
    </ul>`;
  return { title, body };
}

export interface BatchFormModel {
  products: string[];
  members: { userId: string; displayName: string | null }[];
  values: Record<string, string>;
  problems: FieldProblem[];
  csrf: Html;
  once: string;
}

export function batchFormPage(c: Catalog, m: BatchFormModel): { title: string; body: Html } {
  const t = c.manager;
  const v = m.values;
  const err = (id: string) => problemOf(m.problems, id);
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="/w/manager/batches" novalidate>
      ${hidden(c, m.csrf, m.once)}
      <input type="hidden" name="proposedLot" value="${v.proposedLot ?? ""}" />
      <h1>${t.batchTitle}</h1>
      ${select(
        "productCode",
        t.product,
        m.products.map((p) => [p, productName(c, p)]),
        v.productCode,
        err("productCode"),
      )}
      ${field({ id: "lotCode", label: t.lotCode, hint: t.lotCodeHint, value: v.lotCode, error: err("lotCode"), ltr: true, attributes: html`autocomplete="off" maxlength="20"` })}
      <fieldset>
        <legend><h2>${t.contributorsTitle}</h2></legend>
        <p class="hint">${t.contributorsHint}</p>
        ${err("contributors") ? html`<span class="error-message" id="contributors">${err("contributors")}</span>` : ""}
        <table class="contributors">
          <thead>
            <tr>
              <th scope="col">${c.workspace.membersTitle}</th>
              <th scope="col">${t.delivered}</th>
            </tr>
          </thead>
          <tbody>
            ${m.members.map((x, i) => {
              const id = `weight-${i}`;
              const e = err(`contributors-${i}-weight`) ?? err(id);
              return html`<tr>
                <th scope="row">
                  <label for="${id}"
                    >${x.displayName === null ? c.workspace.unnamed : html`<bdi>${x.displayName}</bdi>`}</label
                  >
                </th>
                <td>
                  <input type="hidden" name="${`member-${i}`}" value="${x.userId}" />
                  ${e ? html`<span class="error-message" id="${`${id}-error`}">${e}</span>` : ""}
                  <input
                    id="${id}"
                    name="${id}"
                    value="${v[id] ?? ""}"
                    inputmode="numeric"
                    class="short"
                    dir="ltr"
                    ${e ? html`aria-invalid="true" aria-describedby="${`${id}-error`}"` : ""}
                  />
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
      </fieldset>
      ${field({ id: "quantity", label: t.quantity, hint: t.quantityHint, value: v.quantity, error: err("quantity"), ltr: true, attributes: html`inputmode="numeric"` })}
      ${select(
        "unit",
        t.unit,
        UNITS.map((u) => [u, unitName(c, u)]),
        v.unit,
        err("unit"),
      )}
      ${field({ id: "origin", label: t.origin, value: v.origin, error: err("origin") })}
      <div class="${err("productionDate") ? "field has-error" : "field"}">
        <label for="productionDate">${t.productionDate}</label>
        ${err("productionDate") ? html`<span class="error-message" id="productionDate-error">${err("productionDate")}</span>` : ""}
        <input type="date" id="productionDate" name="productionDate" value="${v.productionDate ?? ""}" dir="ltr" />
      </div>
      ${field({ id: "gtin", label: t.gtin, hint: t.gtinHint, value: v.gtin, error: err("gtin"), ltr: true, attributes: html`inputmode="numeric" maxlength="14"` })}
      <button type="submit" class="button">${t.save}</button>
    </form>`;
  return { title: t.batchTitle, body };
}

export function batchDonePage(
  c: Catalog,
  b: { batchId: string; productCode: string; lotCode: string; gtin: string },
  pending: PendingWrite | null,
): { title: string; body: Html } {
  const t = c.manager;
  const body = html`<div class="panel confirmation">
      <h1>${pending === null ? t.batchDoneTitle : t.pending}</h1>
      ${b.lotCode === "" ? "" : html`<p>${productName(c, b.productCode)} · <bdi dir="ltr">${b.lotCode}</bdi></p>`}
    </div>
    ${progressBanner(c, pending, t.lookAgain)} ${pending === null ? html`<p>${t.batchDoneText}</p>` : ""}
    <ul class="links">
      <li><a id="public-page" href="${q(c, lotPath(b))}">${t.publicPage}</a></li>
      <li><a href="${q(c, `/w/manager/batches/${b.batchId}/step`)}">${t.recordStep}</a></li>
      <li>
        <a id="lot-labels" href="${`/w/manager/labels?batch=${b.batchId}&lang=${c.lang}`}">${t.printLabels}</a>
      </li>
      <li><a href="${q(c, "/w/manager")}">${t.backToDashboard}</a></li>
    </ul>`;
  return { title: t.batchDoneTitle, body };
}

export interface StepFormModel {
  batch: { batchId: string; productCode: string; lotCode: string };
  values: Record<string, string>;
  problems: FieldProblem[];
  csrf: Html;
  once: string;
}

export function stepFormPage(c: Catalog, m: StepFormModel): { title: string; body: Html } {
  const t = c.manager;
  const err = (id: string) => problemOf(m.problems, id);
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="${`/w/manager/batches/${m.batch.batchId}/step`}" novalidate>
      ${hidden(c, m.csrf, m.once)}
      <h1>${t.stepTitle}</h1>
      <p>${productName(c, m.batch.productCode)} · <bdi dir="ltr">${m.batch.lotCode}</bdi></p>
      ${select(
        "bizStep",
        t.step,
        MANAGER_STEPS.map((s) => [s, stepName(c, s)]),
        m.values.bizStep,
        err("bizStep"),
      )}
      ${field({ id: "location", label: t.where, value: m.values.location, error: err("location") })}
      <div class="${err("eventTime") ? "field has-error" : "field"}">
        <label for="eventTime">${t.when}</label>
        <span class="hint" id="eventTime-hint">${t.whenHint}</span>
        ${err("eventTime") ? html`<span class="error-message" id="eventTime-error">${err("eventTime")}</span>` : ""}
        <input
          type="datetime-local"
          id="eventTime"
          name="eventTime"
          value="${m.values.eventTime ?? ""}"
          dir="ltr"
          aria-describedby="eventTime-hint"
        />
      </div>
      <button type="submit" class="button">${t.save}</button>
    </form>`;
  return { title: t.stepTitle, body };
}

export function stepDonePage(
  c: Catalog,
  b: { batchId: string; productCode: string; lotCode: string; gtin: string },
  step: string,
  pending: PendingWrite | null,
): { title: string; body: Html } {
  const t = c.manager;
  const title = t.stepDoneTitle(stepName(c, step));
  const body = html`<div class="panel confirmation">
      <h1>${pending === null ? title : t.pending}</h1>
      <p>${productName(c, b.productCode)} · <bdi dir="ltr">${b.lotCode}</bdi></p>
    </div>
    ${progressBanner(c, pending, t.lookAgain)} ${pending === null ? html`<p>${t.stepDoneText}</p>` : ""}
    <ul class="links">
      <li><a id="public-page" href="${q(c, lotPath(b))}">${t.publicPage}</a></li>
      <li><a href="${q(c, `/w/manager/batches/${b.batchId}/step`)}">${t.recordStep}</a></li>
      <li><a href="${q(c, "/w/manager")}">${t.backToDashboard}</a></li>
    </ul>`;
  return { title, body };
}
