/**
 * Sign-in pages: /signin (members are sent to their card; staff and buyers paste their token once) and
 * a member card's page /c/<card> (the PIN), with the card's states (locked, replaced, unknown).
 */
import { html, type Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import { banner, errorSummary, field, langForm, type FieldProblem } from "./components";

/** A member card, drawn: the member recognises the thing in her hand. */
function cardIcon(size: number): Html {
  return html`<svg
    xmlns="http://www.w3.org/2000/svg"
    width="${size}"
    height="${Math.round(size * 0.63)}"
    viewBox="0 0 86 54"
    aria-hidden="true"
    focusable="false"
  >
    <rect x="1" y="1" width="84" height="52" rx="5" fill="#fff" stroke="#8a2846" stroke-width="2" />
    <rect x="7" y="9" width="34" height="5" rx="2" fill="#8a2846" />
    <rect x="7" y="20" width="26" height="4" rx="2" fill="#bfae9c" />
    <rect x="52" y="14" width="26" height="26" fill="#fff" stroke="#2b2118" stroke-width="2" />
    <path d="M56 18h6v6h-6zM68 18h6v6h-6zM56 30h6v6h-6zM66 28h3v3h-3zM70 33h4v3h-4z" fill="#2b2118" />
  </svg>`;
}

export function signInPage(c: Catalog, state: { error?: string; signedOut?: boolean }): { title: string; body: Html } {
  const s = c.signin;
  const problems: FieldProblem[] = state.error ? [{ field: "token", message: state.error }] : [];
  const body = html`${errorSummary(c, problems)}
    ${state.signedOut ? banner("ok", "signedOut", c.session.signedOut, "") : ""}
    <h1>${s.title}</h1>
    <section aria-labelledby="member-title">
      <div class="cardface">
        ${cardIcon(72)}
        <h2 id="member-title">${s.memberTitle}</h2>
      </div>
      <p>${s.memberText}</p>
    </section>
    <section aria-labelledby="token-title">
      <h2 id="token-title">${s.tokenTitle}</h2>
      <p>${s.tokenText}</p>
      ${langForm(
        c,
        { method: "post", action: "/signin", submit: s.submit },
        field({
          id: "token",
          label: s.token,
          hint: html`${s.tokenHint} <bdi dir="ltr">ct_…</bdi>`,
          error: state.error,
          type: "password",
          ltr: true,
          attributes: html`autocomplete="off" spellcheck="false" maxlength="100"`,
        }),
      )}
    </section>`;
  return { title: s.title, body };
}

export interface CardFaceView {
  cardId: string;
  displayName: string;
  cooperativeName: string | null;
}

export function cardPage(c: Catalog, card: CardFaceView, error?: string): { title: string; body: Html } {
  const k = c.card;
  const problems: FieldProblem[] = error ? [{ field: "pin", message: error }] : [];
  const body = html`${errorSummary(c, problems)}
    <h1>${k.title}</h1>
    <div class="cardface">
      ${cardIcon(96)}
      <p>
        ${k.whose}
        <span class="name"><bdi>${card.displayName}</bdi></span>
        ${card.cooperativeName ? html`<bdi class="note">${card.cooperativeName}</bdi>` : ""}
      </p>
    </div>
    ${langForm(
      c,
      { method: "post", action: `/c/${card.cardId}`, submit: k.submit },
      field({
        id: "pin",
        label: k.pin,
        hint: k.pinHint,
        error,
        type: "password",
        inputClass: "pin",
        ltr: true,
        attributes: html`inputmode="numeric" autocomplete="off" maxlength="6"`,
      }),
    )}
    <p class="note">${k.secret}</p>`;
  return { title: k.title, body };
}

/** A card that cannot be used: locked, replaced or unknown; what to do instead. */
export function cardRefusedPage(c: Catalog, kind: "locked" | "revoked" | "notFound"): { title: string; body: Html } {
  const k = c.card;
  const [title, text] =
    kind === "locked"
      ? [k.lockedTitle, k.lockedText]
      : kind === "revoked"
        ? [k.revokedTitle, k.revokedText]
        : [k.notFoundTitle, k.notFoundText];
  const body = html`<h1>${title}</h1>
    <div class="cardface">${cardIcon(96)}</div>
    <div class="${`banner ${kind === "notFound" ? "warn" : "bad"}`}" role="alert" id="${`card-${kind}`}">${text}</div>`;
  return { title, body };
}
