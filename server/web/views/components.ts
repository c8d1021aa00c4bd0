/**
 * The few components of the workspace's forms and pages, after the GOV.UK Design System: an error
 * summary at the top linking to each field, a field with its label, hint and message beside it, a
 * banner. Everything through `html`, which escapes.
 */
import { html, type Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";

export interface FieldProblem {
  /** The id of the field's input (the summary links to it). */
  field: string;
  message: string;
}

export function banner(tone: "ok" | "bad" | "warn", id: string, title: string, text: string): Html {
  return html`<div class="banner ${tone}" role="alert" id="${id}"><strong>${title}</strong>${text}</div>`;
}

/** The list of what to fix, first on the page, each linked to its field; nothing when all is well. */
export function errorSummary(c: Catalog, problems: readonly FieldProblem[]): Html {
  if (problems.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title">
    <h2 id="error-summary-title">${c.home.errorSummary}</h2>
    <ul>
      ${problems.map((p) => html`<li><a href="${`#${p.field}`}">${p.message}</a></li>`)}
    </ul>
  </div>`;
}

export interface FieldOptions {
  id: string;
  name?: string;
  label: string;
  hint?: string | Html;
  value?: string;
  error?: string;
  type?: "text" | "password" | "search";
  /** Extra attributes, already Html (inputmode, autocomplete, maxlength…). */
  attributes?: Html;
  inputClass?: string;
  /** Codes and tokens read left to right in every language. */
  ltr?: boolean;
}

/** A labelled input; its hint and its error are tied to it for screen readers. */
export function field(o: FieldOptions): Html {
  const described = [o.hint ? `${o.id}-hint` : "", o.error ? `${o.id}-error` : ""].filter(Boolean).join(" ");
  return html`<div class="${o.error ? "field has-error" : "field"}">
    <label for="${o.id}">${o.label}</label>
    ${o.hint ? html`<span class="hint" id="${`${o.id}-hint`}">${o.hint}</span>` : ""}
    ${o.error ? html`<span class="error-message" id="${`${o.id}-error`}">${o.error}</span>` : ""}
    <input
      type="${o.type ?? "text"}"
      id="${o.id}"
      name="${o.name ?? o.id}"
      value="${o.value ?? ""}"
      class="${o.inputClass ?? ""}"
      ${described ? html`aria-describedby="${described}"` : ""}
      ${o.error ? html`aria-invalid="true"` : ""}
      ${o.ltr ? html`dir="ltr"` : ""}
      ${o.attributes ?? ""}
    />
  </div>`;
}

/** A question answered by one choice: radio buttons in a fieldset, its error tied to it; the first gets the id. */
export function radios(o: {
  name: string;
  legend: string;
  error?: string;
  /** Each choice's value and its label, already Html (a name in `<bdi>`, a note beside it). */
  options: [string, Html][];
  checked: string | undefined;
}): Html {
  return html`<fieldset
    class="${o.error ? "field has-error" : "field"}"
    ${o.error ? html`aria-describedby="${`${o.name}-error`}"` : ""}
  >
    <legend>${o.legend}</legend>
    ${o.error ? html`<span class="error-message" id="${`${o.name}-error`}">${o.error}</span>` : ""}
    ${o.options.map(
      ([value, label], i) =>
        html`<label class="choice"
          ><input
            type="radio"
            ${i === 0 ? html`id="${o.name}"` : ""}
            name="${o.name}"
            value="${value}"
            ${o.checked === value ? html`checked` : ""}
          />
          ${label}</label
        >`,
    )}
  </fieldset>`;
}

/** A form of the public pages (find, sign-in, card): it keeps the reader's language and ends with one big button. */
export function langForm(
  c: Catalog,
  o: { method: "get" | "post"; action: string; submit: string },
  fields: Html,
): Html {
  return html`<form method="${o.method}" action="${o.action}" novalidate>
    <input type="hidden" name="lang" value="${c.lang}" />
    ${fields}
    <button type="submit" class="big">${o.submit}</button>
  </form>`;
}

/** A labelled list to choose one from; its error is tied to it for screen readers. */
export function select(
  id: string,
  label: string,
  options: [string, string][],
  value: string | undefined,
  error?: string,
): Html {
  return html`<div class="${error ? "field has-error" : "field"}">
    <label for="${id}">${label}</label>
    ${error ? html`<span class="error-message" id="${`${id}-error`}">${error}</span>` : ""}
    <select id="${id}" name="${id}" ${error ? html`aria-invalid="true" aria-describedby="${`${id}-error`}"` : ""}>
      ${options.map(([v, text]) => html`<option value="${v}" ${v === value ? html`selected` : ""}>${text}</option>`)}
    </select>
  </div>`;
}

/** An access token shown once: what it is for, the token to copy, and a warning to keep it private. */
export function tokenShownOnce(o: { id: string; token: string; intro: string; warn: string }): Html {
  return html`<h2>${o.intro}</h2>
    <p><code id="${o.id}" class="token" dir="ltr">${o.token}</code></p>
    <p class="banner warn">${o.warn}</p>`;
}

/** What showing an amount needs of its token: decimals null when unreadable now, currency when the escrow has one. */
export interface AmountToken {
  symbol: string;
  decimals: number | null;
  currency?: string | null;
}

/**
 * An amount as people read money: in the sale's currency for the reader's locale (formatterFor's `money`:
 * "1 250,00 MAD"), the exact amount and symbol for a token without one; the smallest unit only when the
 * token's decimals cannot be read now. Plain text, for a sentence; `amountHtml` isolates it left to right.
 */
export function amountText(c: Catalog, raw: bigint | string, t: AmountToken): string {
  if (t.decimals === null) return `${String(raw)} ${t.symbol}`;
  return formatterFor(c).money(raw, { symbol: t.symbol, decimals: t.decimals, currency: t.currency ?? null });
}

/** The same, kept left to right inside a line that may run right to left. */
export function amountHtml(c: Catalog, raw: bigint | string, t: AmountToken): Html {
  return html`<bdi dir="ltr">${amountText(c, raw, t)}</bdi>`;
}
