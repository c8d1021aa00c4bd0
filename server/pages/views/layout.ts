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
}

export function layout(p: PageShell): string {
  const { c } = p;
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
  return (
    "<!doctype html>\n" +
    html`<html lang="${c.lang}" dir="${c.dir}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${p.title} · ${c.site.name}</title>
        ${p.noindex ? html`<meta name="robots" content="noindex" />` : ""}
        <meta name="referrer" content="no-referrer" />
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="${STYLESHEET.path}" />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="${`/market?lang=${c.lang}`}">${c.site.name}</a>
          <span class="tag">${c.site.tagline}</span>
          <nav class="langs" aria-label="${c.site.language}">
            <span class="label">${c.site.language}:</span> ${langs}
          </nav>
        </header>
        <main>${p.body}</main>
        <footer>
          <p>${c.site.footer}</p>
          <p><a href="${`/market?lang=${c.lang}`}">${c.site.market}</a></p>
        </footer>
      </body>
    </html> `.value
  );
}
