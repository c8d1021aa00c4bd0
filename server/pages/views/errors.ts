/** Status pages: unknown lot, invalid code, cannot confirm, unexpected error. None claims anything is verified. */
import { html } from "../html";
import type { Catalog, Lang } from "../i18n";
import { layout } from "./layout";

export type StatusKind = "notFound" | "badCode" | "unavailable" | "error";

export function statusPage(
  kind: StatusKind,
  c: Catalog,
  hrefFor: (lang: Lang) => string,
  extra: { verifyCommand?: string } = {},
): string {
  const e = c.errors;
  const [title, text] = {
    notFound: [e.notFoundTitle, e.notFoundText],
    badCode: [e.badCodeTitle, e.badCodeText],
    unavailable: [e.unavailableTitle, e.unavailableText],
    error: [e.errorTitle, e.errorText],
  }[kind];
  const tone = kind === "unavailable" ? "warn" : "bad";
  const body = html`<div class="banner ${tone}" role="alert" id="${kind}"><strong>${title}</strong>${text}</div>
    ${
      kind === "unavailable"
        ? html`<section>
            <p><strong>${e.unavailableNote}</strong></p>
            <p>${e.tryAgain}</p>
          </section>`
        : ""
    }
    ${
      kind === "unavailable" && extra.verifyCommand
        ? html`<section>
            <h2>${c.yourself.title}</h2>
            <p>${c.yourself.text}</p>
            <pre class="cmd" dir="ltr"><code>${extra.verifyCommand}</code></pre>
          </section>`
        : ""
    }
    <p><a href="${`/market?lang=${c.lang}`}">${e.home}</a></p>`;
  return layout({ c, title, hrefFor, body, noindex: true });
}
