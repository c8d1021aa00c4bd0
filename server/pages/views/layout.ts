/**
 * The one layout of every page (public, audit, workspace): the header with the navigation and the
 * language switch, the page, the footer.
 *
 * The header's account part (sign in, or the signed-in user's entries, name and sign-out button) is
 * rendered here for a visitor who is not signed in, between two markers. A signed-in user's part is put
 * in their place by the HTTP layer just before the page is sent (server/web/http.ts
 * `personalizePages`): pages are rendered, and some cached, without knowing who asks (a cached verify
 * page must never carry one user's name to the next), and they stay so.
 */
import type { Role } from "../../custody/users";
import { html, type Html } from "../html";
import { CATALOGS, LANGS, type Catalog, type Lang } from "../i18n";
import { STYLESHEET } from "../assets";

export interface PageShell {
  c: Catalog;
  title: string;
  /** The URL of this same page in another language. */
  hrefFor: (lang: Lang) => string;
  body: Html;
  /** Search engines should not keep error and status pages. */
  noindex?: boolean;
  /** A same-origin script (progressive enhancement only; the page works without it). */
  script?: string;
}

/**
 * The markers around the header's account part, as written in the template below: HTML comments, which
 * no user text can forge (`html` escapes `<`).
 */
export const ACCOUNT_START = "<!--ct:account-->";
export const ACCOUNT_END = "<!--/ct:account-->";

/** Who is signed in, as the header shows it. */
export interface Account {
  displayName: string;
  role: Role;
  /** The hidden CSRF field of the session, for the sign-out form. */
  csrfField: Html;
}

const AUDITORS: readonly Role[] = ["auditor", "platform_admin"];

function link(href: string, label: string, current: string): Html {
  const path = href.split("?")[0];
  return html`<a href="${href}" ${path === current ? html`aria-current="page"` : ""}>${label}</a>`;
}

/** The header's account part: "Sign in" for a visitor; a user's own entries, name and sign-out otherwise. */
export function accountNav(c: Catalog, account: Account | null, currentPath: string): Html {
  const n = c.nav;
  if (account === null) return html`<li>${link(`/signin?lang=${c.lang}`, n.signIn, currentPath)}</li>`;
  return html`<li>${link(`/w?lang=${c.lang}`, n.workspace, currentPath)}</li>
    ${AUDITORS.includes(account.role) ? html`<li>${link(`/audit?lang=${c.lang}`, n.audit, currentPath)}</li>` : ""}
    <li class="account">
      <span class="who"><span class="sr">${n.signedInAs} </span><bdi>${account.displayName}</bdi></span>
      <form class="signout" method="post" action="/signout">
        <input type="hidden" name="lang" value="${c.lang}" />
        ${account.csrfField}
        <button type="submit">${n.signOut}</button>
      </form>
    </li>`;
}

export function layout(p: PageShell): string {
  const { c } = p;
  const current = p.hrefFor(c.lang).split("?")[0];
  const langs = LANGS.map((l) => {
    const other = CATALOGS[l];
    return html`<a
      href="${p.hrefFor(l)}"
      lang="${other.lang}"
      hreflang="${other.lang}"
      dir="${other.dir}"
      ${l === c.lang ? html` aria-current="true"` : ""}
      >${other.name}</a
    >`;
  });
  // Referrer policy same-origin: with "no-referrer" a browser sends `Origin: null` on the page's own
  // forms, which the session's origin check must refuse; other sites still get no referrer.
  return (
    "<!doctype html>\n" +
    html`<html lang="${c.lang}" dir="${c.dir}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${p.title} · ${c.site.name}</title>
        ${p.noindex ? html`<meta name="robots" content="noindex" />` : ""}
        <meta name="referrer" content="same-origin" />
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="${STYLESHEET.path}" />
        ${p.script === undefined ? "" : html`<script src="${p.script}" defer></script>`}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="${`/?lang=${c.lang}`}">${c.site.name}</a>
          <span class="tag">${c.site.tagline}</span>
          <nav class="main" aria-label="${c.nav.menu}">
            <ul>
              <li>${link(`/market?lang=${c.lang}`, c.nav.market, current)}</li>
              <li>${link(`/cooperatives?lang=${c.lang}`, c.nav.cooperatives, current)}</li>
              <li>${link(`/stats?lang=${c.lang}`, c.nav.stats, current)}</li>
              <!--ct:account-->${accountNav(c, null, current)}<!--/ct:account-->
            </ul>
          </nav>
          <nav class="langs" aria-label="${c.site.language}">
            <span class="label">${c.site.language}:</span> ${langs}
          </nav>
        </header>
        <main>${p.body}</main>
        <footer>
          <p>${c.site.footer}</p>
          <p><a href="${`/stats?lang=${c.lang}`}">${c.nav.stats}</a></p>
        </footer>
      </body>
    </html> `.value
  );
}
