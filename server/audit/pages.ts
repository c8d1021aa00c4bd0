/**
 * The auditors' HTML pages (/audit): the same facts as the JSON audit (the same builders), as
 * readable tables, with the `consistent` verdict first and, for a cooperative, a bar chart of what
 * each member received over the period, drawn here as inline SVG (no script, no external asset).
 *
 * A browser cannot send a bearer header without script, so the token is posted once to
 * /audit/login, checked, and exchanged for a server-side session (server/sessions): the cookie holds
 * only the session id, never the token; signing out ends the session on the server. Sign-in and
 * sign-out are POSTs from this gateway's own pages (origin checked; sign-out also carries the
 * session's CSRF token), and failed sign-ins count in the per-address limit shared with the API.
 */
import express, { type Express, type Request, type Response } from "express";
import type { User, UserStore } from "../custody/users";
import type { Logger } from "../log";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { Sale } from "../index/queries";
import { auditPeriodInput, type AuditPeriodInput, type AuditService, type CsvFile } from "../services/audit";
import type { BatchService } from "../services/batches";
import type { CooperativeService } from "../services/cooperatives";
import type { SaleService } from "../services/sales";
import type { TokenLookup } from "../pages/tokens";
import { DomainError } from "../services/errors";
import { FORM_REFERRER_POLICY, type PageSessions } from "../sessions/http";
import { hrefFor } from "../pages/links";
import { html, type Html } from "../pages/html";
import { formatterFor } from "../pages/format";
import { CATALOGS, chooseLang, isLang, productName, type Catalog } from "../pages/i18n";
import { layout } from "../pages/views/layout";
import { chartFigure, PALETTE } from "../stats/chart";
import type { CooperativeAudit } from "./cooperative";
import type { Discrepancy, SaleAudit, TokenRef } from "./sale";

const AUDITORS = new Set(["auditor", "platform_admin"]);
const PAGE_SIZE = 100;
/** Sales listed on the audit home per page, newest first. */
const HOME_PAGE_SIZE = 20;
/** The query parameters the audit pages read: the only ones their links carry. */
const AUDIT_PARAMS = ["from", "to", "offset", "sale", "cooperative", "out"] as const;
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

function catalogFor(req: Request): Catalog {
  const bodyLang = (req.body as Record<string, unknown> | undefined)?.lang;
  return CATALOGS[chooseLang(isLang(bodyLang) ? bodyLang : req.query.lang, req.get("accept-language"))];
}

function send(res: Response, req: Request, c: Catalog, status: number, title: string, body: Html): void {
  res.status(status).set({
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": FORM_REFERRER_POLICY,
    "Content-Language": c.lang,
    "Cache-Control": "no-store",
  });
  res.vary("Accept-Language");
  res.type("html").send(layout({ c, title, hrefFor: hrefFor(req, AUDIT_PARAMS), body, noindex: true }));
}

function banner(tone: "ok" | "bad" | "warn", id: string, title: string, text: string): Html {
  return html`<div class="banner ${tone}" role="alert" id="${id}"><strong>${title}</strong>${text}</div>`;
}

function amount(c: Catalog, raw: string, token: TokenRef): Html {
  const f = formatterFor(c);
  const shown = token.decimals === null ? raw : f.amount(raw, token.decimals);
  return html`<span dir="ltr">${shown} <bdi>${token.symbol}</bdi></span
    ><br /><span class="mono note" dir="ltr" data-raw="${raw}">${raw}</span>`;
}

function verdict(c: Catalog, consistent: boolean, discrepancies: Discrepancy[]): Html {
  const a = c.audit;
  const f = formatterFor(c);
  if (consistent) return banner("ok", "consistent", a.consistent, a.consistentText);
  return html`${banner("bad", "inconsistent", a.inconsistent, a.inconsistentText(f.integer(discrepancies.length)))}
    <section>
      <h2>${a.discrepancies}</h2>
      <table class="split discrepancies">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">${a.field}</th>
            <th scope="col">${a.index}</th>
            <th scope="col">${a.chain}</th>
          </tr>
        </thead>
        <tbody>
          ${discrepancies.map(
            (d) =>
              html`<tr>
                <td class="num">${d.saleId}</td>
                <td class="mono" dir="ltr">${d.field}</td>
                <td class="mono" dir="ltr">${d.index ?? "—"}</td>
                <td class="mono" dir="ltr">${d.chain ?? "—"}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>`;
}

function row(label: string, value: Html | string, cls = ""): Html {
  return html`<tr class="${cls}">
    <th scope="row">${label}</th>
    <td class="num">${value}</td>
  </tr>`;
}

/** `downloads`, when given, is shown right after the verdict, where an auditor looks first. */
export function saleAuditPage(a: SaleAudit, c: Catalog, downloads: Html | "" = ""): { title: string; body: Html } {
  const t = c.audit;
  const f = formatterFor(c);
  const title = t.sale(String(a.saleId));
  const body = html`<h1>${title}</h1>
    ${verdict(c, a.consistent, a.discrepancies)} ${downloads}
    <section>
      <h2>${t.figures}</h2>
      <table class="split figures">
        <tbody>
          ${row(t.state, c.sales.states[a.state as keyof Catalog["sales"]["states"]] ?? a.state)}
          ${row(c.batch.lot, html`<span dir="ltr">${a.lotCode ?? a.batchId}</span>`)}
          ${row(
            t.currency,
            html`<bdi>${a.token.symbol}</bdi>
              <span class="mono" title="${a.token.address}" data-address="${a.token.address}"
                >${shortAddress(a.token.address)}</span
              >`,
          )}
          ${row(t.gross, amount(c, a.gross, a.token), "gross")}
          ${row(`${t.fee} (${f.percent(a.feeBps)})`, amount(c, a.fee, a.token), "fee")}
          ${row(`${t.reserve} (${f.percent(a.reserveBps)})`, amount(c, a.reserve, a.token), "reserve")}
          ${row(t.net, amount(c, a.net, a.token), "members net")}
          ${a.refund ? row(t.refund, amount(c, a.refund.amount, a.token), "refund") : ""}
          ${row(t.remainder, amount(c, a.remainder.amount, a.token), "remainder")}
        </tbody>
      </table>
    </section>
    <section>
      <h2>${t.contributors} (${f.integer(a.contributors.length)})</h2>
      <div class="scroll" tabindex="0" role="region" aria-label="${t.contributors}">
        <table class="split contributors">
          <thead>
            <tr>
              <th scope="col">${t.member}</th>
              <th scope="col">${t.weight}</th>
              <th scope="col">${t.share}</th>
              <th scope="col">${t.claimed}</th>
              <th scope="col">${t.claimable}</th>
            </tr>
          </thead>
          <tbody>
            ${a.contributors.map(
              (x) =>
                html`<tr data-account="${x.account}">
                  <th scope="row">
                    <bdi>${x.displayName ?? shortAddress(x.account)}</bdi><br /><span class="mono note"
                      >${x.account}</span
                    >
                  </th>
                  <td class="num">${f.integer(x.weight)}</td>
                  <td class="num share">${amount(c, x.share, a.token)}</td>
                  <td class="num">${amount(c, x.claimed, a.token)}</td>
                  <td class="num">${amount(c, x.claimable, a.token)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
    <section>
      <h2>${t.transactions}</h2>
      <div class="scroll" tabindex="0" role="region" aria-label="${t.transactions}">
        <table class="split transactions">
          <thead>
            <tr>
              <th scope="col">${t.step}</th>
              <th scope="col">${t.tx}</th>
              <th scope="col">${t.block}</th>
              <th scope="col">${t.logIndex}</th>
            </tr>
          </thead>
          <tbody>
            ${a.transactions.map(
              (x) =>
                html`<tr>
                  <td>
                    <span class="mono">${x.step}</span>${
                      x.account ? html` <span class="mono note">${shortAddress(x.account)}</span>` : ""
                    }${x.amount !== undefined ? html` ${amount(c, x.amount, a.token)}` : ""}
                  </td>
                  <td class="mono" dir="ltr">${x.txHash}</td>
                  <td class="num">${x.blockNumber}</td>
                  <td class="num">${x.logIndex}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
    <p class="note"><a href="${`/api/v1/audit/sales/${a.saleId}`}">${t.json}</a></p>`;
  return { title, body };
}

/** A horizontal bar chart: one bar per member, the length proportional to what they received. */
export function memberChart(
  c: Catalog,
  token: TokenRef,
  bars: { label: string; account: string; value: bigint }[],
): Html {
  const f = formatterFor(c);
  const title = c.audit.chart(token.symbol);
  const width = 640;
  const labelWidth = 180;
  const valueWidth = 140;
  const rowHeight = 20;
  const top = 6;
  const plot = width - labelWidth - valueWidth - 10;
  const height = top + bars.length * rowHeight + 6;
  const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 1n);
  const shown = (v: bigint) => (token.decimals === null ? v.toString() : f.amount(v, token.decimals));
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight;
    const w = b.value <= 0n ? 0 : Math.max(1, Number((b.value * 10_000n) / max) / (10_000 / plot));
    const label = b.label.length > 26 ? b.label.slice(0, 25) + "…" : b.label;
    return html`<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end" font-size="12" fill="#2b2118">${label}</text
      ><rect
        class="bar"
        x="${labelWidth}"
        y="${y + 3}"
        width="${w.toFixed(2)}"
        height="${rowHeight - 6}"
        fill="${PALETTE[i % PALETTE.length]}"
        ><title>${b.label} (${b.account}): ${shown(b.value)} ${token.symbol}</title></rect
      ><text x="${labelWidth + w + 4}" y="${y + 14}" font-size="11" fill="#6b5a4c">${shown(b.value)}</text>`;
  });
  return chartFigure(title, width, height, rows);
}

export function cooperativeAuditPage(
  a: CooperativeAudit,
  c: Catalog,
  query: { from?: string; to?: string; offset: number },
  downloads: Html | "" = "",
): { title: string; body: Html } {
  const t = c.audit;
  const f = formatterFor(c);
  const title = t.cooperative(a.name);
  const byToken = new Map<string, { token: TokenRef; members: CooperativeAudit["members"] }>();
  for (const m of a.members) {
    const entry = byToken.get(m.token.address) ?? { token: m.token, members: [] };
    entry.members.push(m);
    byToken.set(m.token.address, entry);
  }
  const activeTokens = a.tokens.filter((x) => x.sales > 0 || BigInt(x.reserveBalance) > 0n);
  const next = a.sales.offset + a.sales.limit < a.sales.total || a.claims.offset + a.claims.limit < a.claims.total;
  const nextHref = (() => {
    const p = new URLSearchParams({ lang: c.lang, offset: String(query.offset + PAGE_SIZE) });
    if (query.from) p.set("from", query.from);
    if (query.to) p.set("to", query.to);
    return `/audit/cooperatives/${a.cooperativeId}?${p.toString()}`;
  })();
  const body = html`<h1><bdi>${title}</bdi></h1>
    <form class="filters" method="get" action="${`/audit/cooperatives/${a.cooperativeId}`}">
      <input type="hidden" name="lang" value="${c.lang}" />
      <label>${t.from} <input type="date" name="from" value="${query.from ?? ""}" /></label>
      <label>${t.to} <input type="date" name="to" value="${query.to ?? ""}" /></label>
      <button type="submit">${t.open}</button>
    </form>
    <p class="note">${t.period}: <span dir="ltr">${a.period.from ?? "…"} → ${a.period.to ?? "…"}</span></p>
    ${verdict(c, a.consistent, a.discrepancies)} ${downloads}
    <section>
      <h2>${t.totals}</h2>
      ${activeTokens.map(
        (x) =>
          html`<div class="scroll" tabindex="0" role="region" aria-label="${t.totals}">
            <table class="split totals" data-token="${x.token.address}">
              <caption>
                <bdi>${x.token.symbol}</bdi>
              </caption>
              <tbody>
                ${row(t.sales, f.integer(x.sales))} ${row(t.gross, amount(c, x.gross, x.token))}
                ${row(t.fee, amount(c, x.fee, x.token))} ${row(t.reserve, amount(c, x.reserve, x.token))}
                ${row(t.net, amount(c, x.net, x.token), "members")} ${row(t.refund, amount(c, x.refunded, x.token))}
                ${row(t.claimed, amount(c, x.claimed, x.token))}
                ${row(t.outstanding, amount(c, x.outstanding, x.token))}
                ${row(t.reserveBalance, amount(c, x.reserveBalance, x.token))}
              </tbody>
            </table>
          </div>`,
      )}
    </section>
    <section>
      <h2>${t.members}</h2>
      ${[...byToken.values()].map(
        ({ token, members }) =>
          html`${memberChart(
              c,
              token,
              members.map((m) => ({
                label: m.displayName ?? shortAddress(m.account),
                account: m.account,
                value: BigInt(m.shares),
              })),
            )}
            <div class="scroll" tabindex="0" role="region" aria-label="${t.members}">
              <table class="split members-table" data-token="${token.address}">
                <thead>
                  <tr>
                    <th scope="col">${t.member}</th>
                    <th scope="col">${t.share}</th>
                    <th scope="col">${t.claimed}</th>
                    <th scope="col">${t.claimable}</th>
                  </tr>
                </thead>
                <tbody>
                  ${members.map(
                    (m) =>
                      html`<tr data-account="${m.account}">
                        <th scope="row"><bdi>${m.displayName ?? shortAddress(m.account)}</bdi></th>
                        <td class="num">${amount(c, m.shares, token)}</td>
                        <td class="num">${amount(c, m.claimed, token)}</td>
                        <td class="num">${amount(c, m.claimable, token)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`,
      )}
    </section>
    <section>
      <h2>${t.sales} (${f.integer(a.sales.total)})</h2>
      ${
        a.sales.items.length === 0
          ? html`<p>${t.noSales}</p>`
          : html`<div class="scroll" tabindex="0" role="region" aria-label="${t.sales}">
              <table class="split sales">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">${t.state}</th>
                    <th scope="col">${t.gross}</th>
                    <th scope="col">${t.fee}</th>
                    <th scope="col">${t.reserve}</th>
                    <th scope="col">${t.net}</th>
                    <th scope="col">${t.consistent}</th>
                  </tr>
                </thead>
                <tbody>
                  ${a.sales.items.map(
                    (s) =>
                      html`<tr>
                        <td><a href="${`/audit/sales/${s.saleId}?lang=${c.lang}`}">${s.saleId}</a></td>
                        <td>${c.sales.states[s.state as keyof Catalog["sales"]["states"]] ?? s.state}</td>
                        <td class="num">${amount(c, s.gross, s.token)}</td>
                        <td class="num">${amount(c, s.fee, s.token)}</td>
                        <td class="num">${amount(c, s.reserve, s.token)}</td>
                        <td class="num">${amount(c, s.net, s.token)}</td>
                        <td>${s.consistent ? "✓" : html`<strong>✗</strong>`}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${next ? html`<p><a href="${nextHref}">${t.more}</a></p>` : ""}
    </section>
    <p class="note"><a href="${`/api/v1/audit/cooperatives/${a.cooperativeId}`}">${t.json}</a></p>`;
  return { title, body };
}

/** A sale of the audit home, in words. */
export interface HomeSale {
  sale: Sale;
  productCode: string | null;
  lotCode: string | null;
  cooperativeName: string;
  token: TokenRef;
}

/** The audit home's lists: every cooperative, then a page of sales, newest first, with "next" and "previous". */
export function auditHomeLists(
  c: Catalog,
  m: {
    cooperatives: { cooperativeId: number; name: string; region: string }[];
    sales: HomeSale[];
    total: number;
    offset: number;
  },
): Html {
  const t = c.roles3;
  const f = formatterFor(c);
  const pageHref = (offset: number) => `/audit?lang=${c.lang}${offset > 0 ? `&offset=${offset}` : ""}`;
  const state = (x: string) => c.sales.states[x as keyof Catalog["sales"]["states"]] ?? x;
  const price = (x: HomeSale) => (x.token.decimals === null ? x.sale.price : f.amount(x.sale.price, x.token.decimals));
  return html`<section aria-labelledby="audit-coops-title">
      <h2 id="audit-coops-title">${t.auditCooperatives}</h2>
      ${
        m.cooperatives.length === 0
          ? html`<p>${t.noCooperatives}</p>`
          : html`<ul class="links" id="audit-cooperatives">
              ${m.cooperatives.map(
                (x) =>
                  html`<li>
                    <a
                      id="${`audit-cooperative-${x.cooperativeId}`}"
                      href="${`/audit/cooperatives/${x.cooperativeId}?lang=${c.lang}`}"
                      ><bdi>${x.name}</bdi></a
                    ><span class="note"><bdi>${x.region}</bdi></span>
                  </li>`,
              )}
            </ul>`
      }
    </section>
    <section aria-labelledby="audit-sales-title">
      <h2 id="audit-sales-title">${t.auditSales}</h2>
      <p id="audit-sale-count">${t.auditSaleCount(m.total)}</p>
      ${
        m.sales.length === 0
          ? html`<p>${t.noSales}</p>`
          : html`<ul class="links" id="audit-sales">
              ${m.sales.map(
                (x) =>
                  html`<li data-sale="${x.sale.saleId}">
                    <a id="${`audit-sale-${x.sale.saleId}`}" href="${`/audit/sales/${x.sale.saleId}?lang=${c.lang}`}"
                      >${t.saleTitle(f.integer(x.sale.saleId))}${
                        x.productCode === null ? "" : html` · <bdi>${productName(c, x.productCode)}</bdi>`
                      }</a
                    ><span class="note"
                      >${x.lotCode === null ? "" : html`${c.batch.lot} <bdi dir="ltr">${x.lotCode}</bdi> · `}<bdi
                        >${x.cooperativeName}</bdi
                      ></span
                    ><span class="note"
                      ><strong class="state">${state(x.sale.state)}</strong> ·
                      <span class="price" dir="ltr">${price(x)} <bdi>${x.token.symbol}</bdi></span></span
                    >
                  </li>`,
              )}
            </ul>`
      }
      ${
        m.offset > 0
          ? html`<p>
              <a id="audit-sales-previous" href="${pageHref(Math.max(0, m.offset - HOME_PAGE_SIZE))}"
                >${t.previousSales}</a
              >
            </p>`
          : ""
      }
      ${
        m.offset + HOME_PAGE_SIZE < m.total
          ? html`<p><a id="audit-sales-next" href="${pageHref(m.offset + HOME_PAGE_SIZE)}">${t.nextSales}</a></p>`
          : ""
      }
    </section>`;
}

/** Links to the downloads of a sale (CSV, evidence pack) or of a cooperative's period (CSV). */
function downloadLinks(c: Catalog, links: { id: string; href: string; label: string }[]): Html {
  return html`<section aria-labelledby="downloads-title">
    <h2 id="downloads-title">${c.roles3.downloads}</h2>
    <ul class="links">
      ${links.map((l) => html`<li><a id="${l.id}" href="${l.href}" download>${l.label}</a></li>`)}
    </ul>
  </section>`;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface AuditPageDeps {
  audit: AuditService;
  /** Checks the token typed at sign-in. */
  users: Pick<UserStore, "authenticate">;
  log: Logger;
  /** The home's lists: the cooperatives, the sales newest first, named in words. */
  lists: {
    sales: Pick<SaleService, "list">;
    cooperatives: Pick<CooperativeService, "list">;
    batches: Pick<BatchService, "get">;
    tokens: TokenLookup;
  };
}

/** The forms and checks every audit page shares. */
function pageKit(sessions: PageSessions) {
  const loginForm = (c: Catalog) =>
    html`<form method="post" action="/audit/login">
      <input type="hidden" name="lang" value="${c.lang}" />
      <p>
        <label
          >${c.audit.token}<br /><input
            type="password"
            name="token"
            autocomplete="off"
            required
            maxlength="100"
            dir="ltr"
        /></label>
      </p>
      <button type="submit">${c.audit.signIn}</button>
    </form>`;

  const signOut = (req: Request, c: Catalog) =>
    html`<form class="signout" method="post" action="/audit/logout">
      <input type="hidden" name="lang" value="${c.lang}" />
      ${sessions.csrfField(req)}
      <button type="submit">${c.audit.signOut}</button>
    </form>`;

  /** The auditor of this browser's session, or an answer already sent (redirect to sign-in, or 403). */
  function auditor(req: Request, res: Response, c: Catalog): User | null {
    const user = req.user;
    if (user === undefined) {
      res.set("Cache-Control", "no-store").redirect(303, `/audit/login?lang=${c.lang}`);
      return null;
    }
    if (!AUDITORS.has(user.role)) {
      send(
        res,
        req,
        c,
        403,
        c.audit.forbiddenTitle,
        html`${banner("bad", "forbidden", c.audit.forbiddenTitle, c.audit.forbiddenText)}${signOut(req, c)}`,
      );
      return null;
    }
    return user;
  }

  return { loginForm, signOut, auditor };
}

/** Sign-in with a token (exchanged for a server-side session) and sign-out. */
function sessionRoutes(app: Express, deps: AuditPageDeps, sessions: PageSessions): void {
  const { loginForm, signOut } = pageKit(sessions);
  const form = express.urlencoded({ extended: false, limit: "2kb" });

  app.get("/audit/login", (req, res) => {
    const c = catalogFor(req);
    if (req.user !== undefined && AUDITORS.has(req.user.role)) {
      res.set("Cache-Control", "no-store").redirect(303, `/audit?lang=${c.lang}`);
      return;
    }
    send(
      res,
      req,
      c,
      200,
      c.audit.loginTitle,
      html`${req.query.out === "1" ? banner("ok", "signedOut", c.session.signedOut, "") : ""}
        <h1>${c.audit.loginTitle}</h1>
        <p>${c.audit.loginText}</p>
        ${loginForm(c)}`,
    );
  });

  // Login CSRF: no session to hold a token yet, so the origin alone decides (never `Origin: null`).
  app.post("/audit/login", form, sessions.requireSameOrigin, (req, res) => {
    const c = catalogFor(req);
    if (!sessions.mayAttempt(req, res)) return;
    const token = (req.body as Record<string, unknown> | undefined)?.token;
    const user = typeof token === "string" ? deps.users.authenticate(token.trim()) : null;
    if (user === null || !AUDITORS.has(user.role)) {
      // Only a token that is not one counts as guessing; a valid token of another role was not guessed.
      if (user === null) sessions.failedAttempt(req, "audit_login_unknown_token");
      send(
        res,
        req,
        c,
        401,
        c.audit.badTokenTitle,
        html`${banner("bad", "badToken", c.audit.badTokenTitle, c.audit.badTokenText)}
          <h1>${c.audit.loginTitle}</h1>
          ${loginForm(c)}`,
      );
      return;
    }
    sessions.signIn(res, user);
    res.redirect(303, `/audit?lang=${c.lang}`);
  });

  // Signing out is a POST with the session's token: a link on another site cannot end a session.
  app.get("/audit/logout", (req, res) => {
    const c = catalogFor(req);
    if (req.session === undefined) {
      res.set("Cache-Control", "no-store").redirect(303, `/audit/login?lang=${c.lang}`);
      return;
    }
    send(
      res,
      req,
      c,
      200,
      c.audit.signOut,
      html`<h1>${c.audit.signOut}</h1>
        <p>${c.session.signOutText}</p>
        ${signOut(req, c)}`,
    );
  });

  app.post(
    "/audit/logout",
    form,
    sessions.requireSameOrigin,
    (req, res, next) => {
      // A session that already ended has nothing to protect: the cookie is dropped all the same.
      if (req.session !== undefined) return next();
      sessions.signOut(req, res);
      res.redirect(303, `/audit/login?lang=${catalogFor(req).lang}&out=1`);
    },
    sessions.requireCsrf,
    (req, res) => {
      const c = catalogFor(req);
      sessions.signOut(req, res);
      res.redirect(303, `/audit/login?lang=${c.lang}&out=1`);
    },
  );
}

/** The period of a cooperative page (dates from its form, an offset from its "more" link), or null if invalid. */
function periodOf(query: Request["query"]): { from?: string; to?: string; input: AuditPeriodInput } | null {
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const from = text(query.from);
  const to = text(query.to);
  const offset = text(query.offset) ?? "0";
  // The form sends dates only; the API also takes date-times.
  if ((from !== undefined && !DATE.test(from)) || (to !== undefined && !DATE.test(to)) || !/^\d{1,6}$/.test(offset)) {
    return null;
  }
  const parsed = auditPeriodInput.safeParse({ from, to, offset, limit: PAGE_SIZE });
  return parsed.success ? { from, to, input: parsed.data } : null;
}

/** The audit pages: a home to pick a sale or a cooperative, a sale's audit, a cooperative's over a period. */
function auditRoutesOf(app: Express, deps: AuditPageDeps, sessions: PageSessions): void {
  const { signOut, auditor } = pageKit(sessions);
  const notFoundPage = (req: Request, res: Response, c: Catalog, text = "") =>
    send(res, req, c, 404, c.audit.notFoundTitle, banner("bad", "notFound", c.audit.notFoundTitle, text));
  const badPeriod = (req: Request, res: Response, c: Catalog) =>
    send(res, req, c, 400, c.audit.period, banner("bad", "badPeriod", c.audit.period, c.audit.badPeriod));

  function failed(req: Request, res: Response, c: Catalog, err: unknown): void {
    if (err instanceof DomainError && err.kind === "not_found") return notFoundPage(req, res, c, err.message);
    if (err instanceof DomainError && err.kind === "invalid") return badPeriod(req, res, c);
    deps.log.error({ err }, "audit page failed");
    send(res, req, c, 500, c.errors.errorTitle, banner("bad", "error", c.errors.errorTitle, c.errors.errorText));
  }

  app.get("/audit", async (req, res) => {
    const c = catalogFor(req);
    const user = auditor(req, res, c);
    if (user === null) return;
    const sale = typeof req.query.sale === "string" && /^\d{1,9}$/.test(req.query.sale) ? req.query.sale : null;
    const coop =
      typeof req.query.cooperative === "string" && /^\d{1,9}$/.test(req.query.cooperative)
        ? req.query.cooperative
        : null;
    if (sale !== null) return res.redirect(303, `/audit/sales/${sale}?lang=${c.lang}`);
    if (coop !== null) return res.redirect(303, `/audit/cooperatives/${coop}?lang=${c.lang}`);
    const pick = (name: string, label: string) =>
      html`<form class="filters" method="get" action="/audit">
        <input type="hidden" name="lang" value="${c.lang}" />
        <label>${label} <input type="number" name="${name}" min="1" required /></label>
        <button type="submit">${c.audit.open}</button>
      </form>`;
    const offsetText = typeof req.query.offset === "string" ? req.query.offset : "0";
    const offset = /^\d{1,6}$/.test(offsetText) ? Number(offsetText) : 0;
    let lists: Html;
    try {
      lists = await homeLists(deps.lists, c, offset);
    } catch (err) {
      return failed(req, res, c, err);
    }
    send(
      res,
      req,
      c,
      200,
      c.audit.title,
      html`<h1>${c.audit.title}</h1>
        <p><bdi>${user.displayName}</bdi></p>
        ${lists}
        <section aria-labelledby="by-number-title">
          <h2 id="by-number-title">${c.roles3.byNumber}</h2>
          ${pick("sale", c.audit.openSale)} ${pick("cooperative", c.audit.openCooperative)}
        </section>
        ${signOut(req, c)}`,
    );
  });

  downloadRoutes(app, deps, { auditor, failed, notFoundPage, badPeriod });

  app.get("/audit/sales/:id", async (req, res) => {
    const c = catalogFor(req);
    const user = auditor(req, res, c);
    if (user === null) return;
    const id = String(req.params.id);
    if (!/^\d{1,9}$/.test(id)) return notFoundPage(req, res, c);
    try {
      const files = downloadLinks(c, [
        { id: "sale-csv", href: `/audit/sales/${id}.csv`, label: c.roles3.saleCsv },
        { id: "sale-pack", href: `/audit/sales/${id}/pack`, label: c.roles3.salePack },
      ]);
      const page = saleAuditPage(await deps.audit.sale(user, Number(id)), c, files);
      send(res, req, c, 200, page.title, html`${page.body}${signOut(req, c)}`);
    } catch (err) {
      failed(req, res, c, err);
    }
  });

  app.get("/audit/cooperatives/:id", async (req, res) => {
    const c = catalogFor(req);
    const user = auditor(req, res, c);
    if (user === null) return;
    const id = String(req.params.id);
    if (!/^\d{1,9}$/.test(id)) return notFoundPage(req, res, c);
    const period = periodOf(req.query);
    if (period === null) return badPeriod(req, res, c);
    try {
      const audit = await deps.audit.cooperative(user, Number(id), period.input);
      // The CSV of the page shown: the same period and the same page of sales and claims.
      const p = new URLSearchParams({ offset: String(period.input.offset) });
      if (period.from) p.set("from", period.from);
      if (period.to) p.set("to", period.to);
      const files = downloadLinks(c, [
        {
          id: "cooperative-csv",
          href: `/audit/cooperatives/${id}.csv?${p.toString()}`,
          label: c.roles3.cooperativeCsv,
        },
      ]);
      const query = { from: period.from, to: period.to, offset: period.input.offset };
      const page = cooperativeAuditPage(audit, c, query, files);
      send(res, req, c, 200, page.title, html`${page.body}${signOut(req, c)}`);
    } catch (err) {
      failed(req, res, c, err);
    }
  });
}

/** The home's cooperatives (the first 100) and one page of sales, newest first, named from the services. */
async function homeLists(lists: AuditPageDeps["lists"], c: Catalog, offset: number): Promise<Html> {
  const cooperatives = lists.cooperatives.list({ limit: 100, offset: 0 }).items;
  const names = new Map(cooperatives.map((x) => [x.cooperativeId, x.name]));
  // The index lists sales oldest first: the newest page is read from the end, then reversed.
  const total = lists.sales.list({ limit: 1, offset: 0 }).total;
  const end = Math.max(0, total - offset);
  const start = Math.max(0, end - HOME_PAGE_SIZE);
  const page = end === 0 ? [] : lists.sales.list({ limit: end - start, offset: start }).items.reverse();
  const sales = await Promise.all(
    page.map(async (sale): Promise<HomeSale> => {
      let batch: { productCode: string; lotCode: string } | null = null;
      try {
        batch = lists.batches.get(sale.batchId);
      } catch (err) {
        if (!(err instanceof DomainError && err.kind === "not_found")) throw err;
      }
      const info =
        sale.token === ZeroAddress
          ? { symbol: "ETH", decimals: 18 }
          : await lists.tokens(sale.token).catch(() => ({ symbol: sale.token.slice(0, 8), decimals: null }));
      return {
        sale,
        productCode: batch?.productCode ?? null,
        lotCode: batch?.lotCode ?? null,
        cooperativeName: names.get(sale.cooperativeId) ?? `#${sale.cooperativeId}`,
        token: { address: sale.token, symbol: info.symbol, decimals: info.decimals },
      };
    }),
  );
  return auditHomeLists(c, { cooperatives, sales, total, offset });
}

interface AuditHelpers {
  auditor: (req: Request, res: Response, c: Catalog) => User | null;
  failed: (req: Request, res: Response, c: Catalog, err: unknown) => void;
  notFoundPage: (req: Request, res: Response, c: Catalog) => void;
  badPeriod: (req: Request, res: Response, c: Catalog) => void;
}

/** As the API sends a CSV export (server/api/routes/audit.ts): the same bytes, as an attachment, never cached. */
function sendCsv(res: Response, { filename, csv }: CsvFile): void {
  res
    .status(200)
    .type("text/csv; charset=utf-8")
    .set("Content-Disposition", `attachment; filename="${filename}"`)
    .set("Cache-Control", "no-store")
    .send(csv);
}

/**
 * The downloads of the audit pages, for the signed-in auditor's session (a browser sends no bearer header):
 * a sale's CSV and evidence pack, a cooperative's CSV for a period, exactly as the API serves them.
 * Registered before /audit/sales/:id, which would otherwise take "5.csv" for an id.
 */
function downloadRoutes(app: Express, deps: AuditPageDeps, h: AuditHelpers): void {
  const idOf = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : null);

  app.get("/audit/sales/:id.csv", async (req, res) => {
    const c = catalogFor(req);
    const user = h.auditor(req, res, c);
    if (user === null) return;
    const id = idOf(req);
    if (id === null) return h.notFoundPage(req, res, c);
    try {
      sendCsv(res, await deps.audit.saleCsv(user, id));
    } catch (err) {
      h.failed(req, res, c, err);
    }
  });

  app.get("/audit/sales/:id/pack", async (req, res) => {
    const c = catalogFor(req);
    const user = h.auditor(req, res, c);
    if (user === null) return;
    const id = idOf(req);
    if (id === null) return h.notFoundPage(req, res, c);
    try {
      const pack = await deps.audit.salePack(user, id);
      res.set("Cache-Control", "no-store");
      res.set("Content-Disposition", `attachment; filename="sale-${id}-pack.json"`);
      res.status(200).json(pack);
    } catch (err) {
      h.failed(req, res, c, err);
    }
  });

  app.get("/audit/cooperatives/:id.csv", async (req, res) => {
    const c = catalogFor(req);
    const user = h.auditor(req, res, c);
    if (user === null) return;
    const id = idOf(req);
    if (id === null) return h.notFoundPage(req, res, c);
    const period = periodOf(req.query);
    if (period === null) return h.badPeriod(req, res, c);
    try {
      sendCsv(res, await deps.audit.cooperativeCsv(user, id, period.input));
    } catch (err) {
      h.failed(req, res, c, err);
    }
  });
}

/** The audit pages; the application loads the browser's session (`sessions.load`) before every page. */
export function auditPageRoutes(app: Express, deps: AuditPageDeps, sessions: PageSessions): void {
  sessionRoutes(app, deps, sessions);
  auditRoutesOf(app, deps, sessions);
}
