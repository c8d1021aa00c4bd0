/**
 * The member's pages: "my money" (her share of each sale, paid, still owed, a "get paid" button per lot
 * and currency where something is owed), its confirmation, and "my deliveries". Words first, icons
 * beside the words (never alone), big buttons; amounts and dates in her language's numbers.
 */
import { html, type Html } from "../../pages/html";
import { inProgress, progressBanner, type PendingWrite, type Progress } from "../progress";
import { productName, type Catalog } from "../../pages/i18n";
import { formatterFor, quantity } from "../../pages/format";
import { onceFields } from "../forms";
import { amountHtml, errorSummary, field, tokenShownOnce, type FieldProblem } from "../views/components";
import { lotPath } from "../views/home";
import { placeName, provincesOf, REGIONS } from "../../../domain/regions";

const q = (c: Catalog, path: string) => `${path}?lang=${c.lang}`;

/** Decorative: the words beside it say the same thing, so screen readers skip it. */
const coin = html`<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="28" height="28">
  <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="2" />
  <path d="M12 6v12M9 9h5a2 2 0 0 1 0 4h-4a2 2 0 0 0 0 4h5" fill="none" stroke="currentColor" stroke-width="2" />
</svg>`;
const basket = html`<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="28" height="28">
  <path d="M3 9h18l-2 11H5L3 9zM8 9l4-6 4 6" fill="none" stroke="currentColor" stroke-width="2" />
</svg>`;

export interface TokenView {
  /** What the claim form sends: "ETH" or the ERC-20's address. */
  param: string;
  symbol: string;
  decimals: number | null;
  currency?: string | null;
}

/** One lot in one currency: its sales' shares, and whether a claim would pay something. */
export interface MoneyGroup {
  batchId: string;
  productCode: string;
  lotCode: string;
  gtin: string;
  token: TokenView;
  sales: { saleId: number; share: bigint; paid: bigint; due: bigint; releasedAt: number }[];
  due: bigint;
}

function amountOf(c: Catalog, raw: bigint, t: TokenView): Html {
  return amountHtml(c, raw, t);
}

export function moneyPage(
  c: Catalog,
  m: { groups: MoneyGroup[]; csrf: Html; once: (g: MoneyGroup) => string },
): { title: string; body: Html } {
  const t = c.roles;
  const f = formatterFor(c);
  const body = html`<h1>${coin} ${t.moneyTitle}</h1>
    <p>${t.moneyIntro}</p>
    ${m.groups.length === 0 ? html`<p id="no-shares">${t.noShares}</p>` : ""}
    ${m.groups.map(
      (g) =>
        html`<section class="panel money-group" data-batch="${g.batchId}" data-token="${g.token.param}">
          <h2>
            <a href="${q(c, lotPath(g))}">${productName(c, g.productCode)} · <bdi dir="ltr">${g.lotCode}</bdi></a>
          </h2>
          <ul class="plain">
            ${g.sales.map(
              (s) =>
                html`<li data-sale="${String(s.saleId)}">
                  <strong>${t.sale(f.integer(s.saleId))}</strong>
                  <span class="note">${t.releasedOn(f.date(s.releasedAt))}</span>
                  <dl class="money">
                    <dt>${t.share}</dt>
                    <dd class="share">${amountOf(c, s.share, g.token)}</dd>
                    <dt>${t.paid}</dt>
                    <dd class="paid">${amountOf(c, s.paid, g.token)}</dd>
                    <dt>${t.due}</dt>
                    <dd class="due">${amountOf(c, s.due, g.token)}</dd>
                  </dl>
                </li>`,
            )}
          </ul>
          ${
            g.due > 0n
              ? html`<form method="post" action="/w/member/claim">
                  ${onceFields(m.csrf, m.once(g))}
                  <input type="hidden" name="batchId" value="${g.batchId}" />
                  <input type="hidden" name="token" value="${g.token.param}" />
                  <button type="submit" class="button big get-paid">
                    ${coin} ${t.getPaid} · ${amountOf(c, g.due, g.token)}
                  </button>
                </form>`
              : html`<p class="note nothing-due">${t.nothingDue}</p>`
          }
        </section>`,
    )}
    <p><a href="${q(c, "/w/member/deliveries")}">${basket} ${t.openDeliveries}</a></p>
    <p><a href="${q(c, "/w")}">${t.back}</a></p>`;
  return { title: t.moneyTitle, body };
}

export function paidPage(
  c: Catalog,
  m: {
    amount: bigint | null;
    token: TokenView;
    progress: Progress;
    operationId: string;
    /** This page's own address: the "look again" link and where the progress script comes back to. */
    self: string;
    lot: { productCode: string; lotCode: string };
  },
): { title: string; body: Html } {
  const t = c.roles;
  const title = m.progress === "pending" ? t.pending : m.progress === "failed" ? c.errors.errorTitle : t.paidTitle;
  const body = html`<div class="panel confirmation" id="paid">
      <h1>${coin} ${title}</h1>
      ${m.amount === null || m.progress !== "done" ? "" : html`<p class="amount">${amountOf(c, m.amount, m.token)}</p>`}
      <p>${productName(c, m.lot.productCode)} · <bdi dir="ltr">${m.lot.lotCode}</bdi></p>
    </div>
    ${
      m.progress === "pending"
        ? inProgress(c, { operationId: m.operationId, next: m.self, lookAgain: t.lookAgain })
        : html`<p>${m.progress === "failed" ? c.form.writeFailed : t.paidText}</p>`
    }
    <ul class="links">
      <li><a href="${q(c, "/w/member/money")}">${coin} ${t.openMoney}</a></li>
      <li><a href="${q(c, "/w")}">${t.back}</a></li>
    </ul>`;
  return { title, body };
}

export interface DeliveryView {
  batchId: string;
  productCode: string;
  lotCode: string;
  gtin: string;
  unit: string;
  productionDate: number;
  /** "registered": weights are what each member delivered; a split or merge only carries parts on. */
  kind: string;
  /** Her weight (the quantity she delivered, in the lot's unit) and her part in basis points. */
  weight: string;
  partBps: number;
}

export function deliveriesPage(c: Catalog, lots: DeliveryView[]): { title: string; body: Html } {
  const t = c.roles;
  const f = formatterFor(c);
  const body = html`<h1>${basket} ${t.deliveriesTitle}</h1>
    <p>${t.deliveriesIntro}</p>
    ${
      lots.length === 0
        ? html`<p id="no-deliveries">${t.noDeliveries}</p>`
        : html`<ul class="plain deliveries">
            ${lots.map(
              (l) =>
                html`<li class="panel" data-batch="${l.batchId}">
                  <a href="${q(c, lotPath(l))}">${productName(c, l.productCode)} · <bdi dir="ltr">${l.lotCode}</bdi></a>
                  <span class="note">${f.date(l.productionDate)}</span>
                  ${
                    l.kind === "registered"
                      ? html`<dl class="money">
                          <dt>${t.delivered}</dt>
                          <dd class="delivered">${quantity(c, l.weight, l.unit)}</dd>
                        </dl>`
                      : ""
                  }
                  <p class="part">${t.part(f.percent(l.partBps))}</p>
                </li>`,
            )}
          </ul>`
    }
    <p><a href="${q(c, "/w/member/money")}">${coin} ${t.openMoney}</a></p>
    <p><a href="${q(c, "/w")}">${t.back}</a></p>`;
  return { title: t.deliveriesTitle, body };
}

/**
 * The cooperative's province or prefecture, chosen from the fixed list (domain/regions.ts) grouped by
 * region: one spelling per place, so the regional figures never split a region in two.
 */
function provinceSelect(c: Catalog, value: string | undefined, error: string | undefined): Html {
  const p = c.places;
  const described = ["region-hint", error ? "region-error" : ""].filter(Boolean).join(" ");
  return html`<div class="${error ? "field has-error" : "field"}">
    <label for="region">${p.province}</label>
    <span class="hint" id="region-hint">${p.provinceHint}</span>
    ${error ? html`<span class="error-message" id="region-error">${error}</span>` : ""}
    <select id="region" name="region" aria-describedby="${described}" ${error ? html`aria-invalid="true"` : ""}>
      <option value="" ${value ? "" : html`selected`}>${p.choose}</option>
      ${REGIONS.map(
        (r) =>
          html`<optgroup label="${placeName(r, c.lang)}">
            ${provincesOf(r.code).map(
              (pr) =>
                html`<option value="${pr.code}" ${pr.code === value ? html`selected` : ""}>
                  ${placeName(pr, c.lang)}
                </option>`,
            )}
          </optgroup>`,
      )}
    </select>
  </div>`;
}

export interface RegisterFormModel {
  values: Record<string, string | undefined>;
  problems: FieldProblem[];
  csrf: Html;
  once: string;
}

/** The development office registers a cooperative and names its manager: one form, a question each. */
export function registerFormPage(c: Catalog, m: RegisterFormModel): { title: string; body: Html } {
  const t = c.roles;
  const err = (id: string) => m.problems.find((p) => p.field === id)?.message;
  const women = m.values.womenLed === "yes";
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="/w/registrar/cooperatives" novalidate>
      ${onceFields(m.csrf, m.once)}
      <h1>${t.registerTitle}</h1>
      ${field({ id: "name", label: t.coopName, value: m.values.name, error: err("name") })}
      ${provinceSelect(c, m.values.region, err("region"))}
      ${field({
        id: "registrationNumber",
        label: t.registrationNumber,
        value: m.values.registrationNumber,
        error: err("registrationNumber"),
        ltr: true,
      })}
      ${field({
        id: "reserveBps",
        label: t.reserve,
        hint: t.reserveHint,
        value: m.values.reserve,
        name: "reserve",
        error: err("reserveBps"),
        attributes: html`inputmode="decimal"`,
        ltr: true,
      })}
      <fieldset class="field">
        <legend>${t.womenLed}</legend>
        <label class="choice"
          ><input type="radio" id="womenLed" name="womenLed" value="yes" ${women ? html`checked` : ""} />
          ${t.yes}</label
        >
        <label class="choice"
          ><input type="radio" name="womenLed" value="no" ${women ? "" : html`checked`} /> ${t.no}</label
        >
      </fieldset>
      ${field({ id: "admin-displayName", label: t.adminName, value: m.values.adminName, error: err("admin-displayName"), name: "adminName" })}
      <button type="submit" class="button big">${t.register}</button>
    </form>`;
  return { title: t.registerTitle, body };
}

export function registeredPage(
  c: Catalog,
  m: { name: string; token: string | null; pending: PendingWrite | null },
): { title: string; body: Html } {
  const t = c.roles;
  const title = t.registeredTitle(m.name);
  const body = html`<div class="panel confirmation" id="registered">
      <h1>${m.pending === null ? html`<bdi>${title}</bdi>` : t.pending}</h1>
    </div>
    ${progressBanner(c, m.pending, t.lookAgain)}
    ${
      m.token === null
        ? ""
        : tokenShownOnce({ id: "manager-token", token: m.token, intro: t.tokenIntro, warn: t.tokenWarn })
    }
    <ul class="links">
      <li><a href="${q(c, "/w/registrar/cooperatives/new")}">${t.openRegister}</a></li>
      <li><a href="${q(c, "/cooperatives")}">${c.nav.cooperatives}</a></li>
      <li><a href="${q(c, "/w")}">${t.back}</a></li>
    </ul>`;
  return { title, body };
}
