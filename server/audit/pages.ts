/**
 * The auditors' HTML pages (/audit): the same facts as the JSON audit (the same builders), drawn by
 * server/audit/views.ts; this module answers the requests.
 *
 * A browser cannot send a bearer header without script, so the token is posted once to
 * /audit/login, checked, and exchanged for a server-side session (server/sessions): the cookie holds
 * only the session id, never the token; signing out ends the session on the server. Sign-in and
 * sign-out are POSTs from this gateway's own pages (origin checked; sign-out also carries the
 * session's CSRF token), and failed sign-ins count in the per-address limit shared with the API.
 */
import { sendCsv } from "../api/download";
import express, { type Express, type Request, type Response } from "express";
import type { User, UserStore } from "../custody/users";
import type { Logger } from "../log";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import { auditPeriodInput, type AuditPeriodInput, type AuditService } from "../services/audit";
import type { BatchService } from "../services/batches";
import type { CooperativeService } from "../services/cooperatives";
import type { PayoutService } from "../services/payouts";
import type { SaleService } from "../services/sales";
import type { TokenLookup } from "../pages/tokens";
import { DomainError } from "../services/errors";
import { FORM_REFERRER_POLICY, type PageSessions } from "../sessions/http";
import { hrefFor } from "../pages/links";
import { html, type Html } from "../pages/html";
import { CATALOGS, chooseLang, isLang, type Catalog } from "../pages/i18n";
import { layout } from "../pages/views/layout";
import type { RateLookup } from "../pages/views/money";
import type { CooperativeAudit } from "./cooperative";
import type { SaleAudit, TokenRef } from "./sale";
import {
  auditHomeLists,
  banner,
  cooperativeAuditPage,
  downloadLinks,
  HOME_PAGE_SIZE,
  payoutsSection,
  PAGE_SIZE,
  periodQuery,
  saleAuditPage,
  type AuditView,
  type HomeSale,
} from "./views";

const AUDITORS = new Set(["auditor", "platform_admin"]);
/** The query parameters the audit pages read: the only ones their links carry. */
const AUDIT_PARAMS = ["from", "to", "offset", "sale", "cooperative", "out"] as const;
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A sale's or a cooperative's number in a path or a query. */
const ID = /^\d{1,9}$/;

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
  /** A cooperative's reconciliation of payouts (page and CSV), and the reference rates of dirham equivalents. */
  payouts: Pick<PayoutService, "reconciliation" | "reconciliationCsv" | "latestRate">;
}

function catalogFor(req: Request): Catalog {
  const bodyLang = (req.body as Record<string, unknown> | undefined)?.lang;
  return CATALOGS[chooseLang(isLang(bodyLang) ? bodyLang : req.query.lang, req.get("accept-language"))];
}

function send(req: Request, res: Response, c: Catalog, status: number, page: AuditView): void {
  res.status(status).set({
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": FORM_REFERRER_POLICY,
    "Content-Language": c.lang,
    "Cache-Control": "no-store",
  });
  res.vary("Accept-Language");
  res
    .type("html")
    .send(layout({ c, title: page.title, hrefFor: hrefFor(req, AUDIT_PARAMS), body: page.body, noindex: true }));
}

/** A page that is only a banner: `id` names it for tests and links, `title` is also the page's. */
function sendBanner(
  req: Request,
  res: Response,
  c: Catalog,
  status: number,
  id: string,
  title: string,
  text = "",
): void {
  send(req, res, c, status, { title, body: banner("bad", id, title, text) });
}

/** A number in a path or a query, or null. */
function idParam(value: unknown): string | null {
  return typeof value === "string" && ID.test(value) ? value : null;
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

/** The forms and answers every audit page shares. */
interface AuditKit {
  loginForm: (c: Catalog) => Html;
  /** The page, then the sign-out form under it. */
  signedIn: (req: Request, res: Response, c: Catalog, page: AuditView, status?: number) => void;
  /** The auditor of this browser's session, or an answer already sent (redirect to sign-in, or 403). */
  auditor: (req: Request, res: Response, c: Catalog) => User | null;
  failed: (req: Request, res: Response, c: Catalog, err: unknown) => void;
  notFoundPage: (req: Request, res: Response, c: Catalog, text?: string) => void;
  badPeriod: (req: Request, res: Response, c: Catalog) => void;
}

function auditKit(deps: AuditPageDeps, sessions: PageSessions): AuditKit {
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

  const signedIn: AuditKit["signedIn"] = (req, res, c, page, status = 200) =>
    send(req, res, c, status, {
      title: page.title,
      body: html`${page.body}
        <form class="signout" method="post" action="/audit/logout">
          <input type="hidden" name="lang" value="${c.lang}" />
          ${sessions.csrfField(req)}
          <button type="submit">${c.audit.signOut}</button>
        </form>`,
    });

  function auditor(req: Request, res: Response, c: Catalog): User | null {
    const user = req.user;
    if (user === undefined) {
      res.set("Cache-Control", "no-store").redirect(303, `/audit/login?lang=${c.lang}`);
      return null;
    }
    if (!AUDITORS.has(user.role)) {
      const body = banner("bad", "forbidden", c.audit.forbiddenTitle, c.audit.forbiddenText);
      signedIn(req, res, c, { title: c.audit.forbiddenTitle, body }, 403);
      return null;
    }
    return user;
  }

  const notFoundPage: AuditKit["notFoundPage"] = (req, res, c, text = "") =>
    sendBanner(req, res, c, 404, "notFound", c.audit.notFoundTitle, text);
  const badPeriod: AuditKit["badPeriod"] = (req, res, c) =>
    sendBanner(req, res, c, 400, "badPeriod", c.audit.period, c.audit.badPeriod);

  function failed(req: Request, res: Response, c: Catalog, err: unknown): void {
    if (err instanceof DomainError && err.kind === "not_found") return notFoundPage(req, res, c, err.message);
    if (err instanceof DomainError && err.kind === "invalid") return badPeriod(req, res, c);
    deps.log.error({ err }, "audit page failed");
    sendBanner(req, res, c, 500, "error", c.errors.errorTitle, c.errors.errorText);
  }

  return { loginForm, signedIn, auditor, failed, notFoundPage, badPeriod };
}

/**
 * An auditor's page: the language, then the signed-in auditor (or the answer sent instead), then
 * `page`; what it throws becomes the page of the error (not found, a bad period, or a 500).
 */
function asAuditor(
  kit: AuditKit,
  page: (req: Request, res: Response, c: Catalog, user: User) => Promise<void> | void,
): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const c = catalogFor(req);
    const user = kit.auditor(req, res, c);
    if (user === null) return;
    try {
      await page(req, res, c, user);
    } catch (err) {
      kit.failed(req, res, c, err);
    }
  };
}

type Period = NonNullable<ReturnType<typeof periodOf>>;

/** An auditor's page of one sale or cooperative: a malformed `:id` is not found. */
function forId(
  kit: AuditKit,
  page: (req: Request, res: Response, c: Catalog, user: User, id: string) => Promise<void> | void,
): (req: Request, res: Response) => Promise<void> {
  return asAuditor(kit, (req, res, c, user) => {
    const id = idParam(req.params.id);
    return id === null ? kit.notFoundPage(req, res, c) : page(req, res, c, user, id);
  });
}

/** An auditor's page of a cooperative over a period (its query): a malformed period is a bad request. */
function forPeriod(
  kit: AuditKit,
  page: (req: Request, res: Response, c: Catalog, user: User, id: string, period: Period) => Promise<void> | void,
): (req: Request, res: Response) => Promise<void> {
  return forId(kit, (req, res, c, user, id) => {
    const period = periodOf(req.query);
    return period === null ? kit.badPeriod(req, res, c) : page(req, res, c, user, id, period);
  });
}

/** Sign-in with a token (exchanged for a server-side session) and sign-out. */
function sessionRoutes(app: Express, deps: AuditPageDeps, sessions: PageSessions, kit: AuditKit): void {
  const form = express.urlencoded({ extended: false, limit: "2kb" });

  app.get("/audit/login", (req, res) => {
    const c = catalogFor(req);
    if (req.user !== undefined && AUDITORS.has(req.user.role)) {
      res.set("Cache-Control", "no-store").redirect(303, `/audit?lang=${c.lang}`);
      return;
    }
    send(req, res, c, 200, {
      title: c.audit.loginTitle,
      body: html`${req.query.out === "1" ? banner("ok", "signedOut", c.session.signedOut, "") : ""}
        <h1>${c.audit.loginTitle}</h1>
        <p>${c.audit.loginText}</p>
        ${kit.loginForm(c)}`,
    });
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
      send(req, res, c, 401, {
        title: c.audit.badTokenTitle,
        body: html`${banner("bad", "badToken", c.audit.badTokenTitle, c.audit.badTokenText)}
          <h1>${c.audit.loginTitle}</h1>
          ${kit.loginForm(c)}`,
      });
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
    const body = html`<h1>${c.audit.signOut}</h1>
      <p>${c.session.signOutText}</p>`;
    kit.signedIn(req, res, c, { title: c.audit.signOut, body });
  });

  const signedOut = (req: Request, res: Response) => {
    sessions.signOut(req, res);
    res.redirect(303, `/audit/login?lang=${catalogFor(req).lang}&out=1`);
  };
  app.post(
    "/audit/logout",
    form,
    sessions.requireSameOrigin,
    // A session that already ended has nothing to protect: the cookie is dropped all the same.
    (req, res, next) => (req.session !== undefined ? next() : signedOut(req, res)),
    sessions.requireCsrf,
    signedOut,
  );
}

/** The currency of each token (the escrow's, through the token lookup); null when it cannot be read. */
async function currenciesOf(tokens: TokenLookup, addresses: Iterable<string>): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const a of new Set(addresses)) out.set(a, (await tokens(a).catch(() => null))?.currency ?? null);
  return out;
}

/** A token reference with its currency, so the views show its amounts as money. */
const withCurrency = (t: TokenRef, currencies: Map<string, string | null>): TokenRef => ({
  ...t,
  currency: currencies.get(t.address) ?? null,
});

/** A sale's audit with its token's currency (the JSON audit is left as the builders made it). */
async function saleWithCurrency(tokens: TokenLookup, a: SaleAudit): Promise<SaleAudit> {
  return { ...a, token: withCurrency(a.token, await currenciesOf(tokens, [a.token.address])) };
}

/** A cooperative's audit with each token's currency. */
async function cooperativeWithCurrency(tokens: TokenLookup, a: CooperativeAudit): Promise<CooperativeAudit> {
  const currencies = await currenciesOf(tokens, [
    ...a.tokens.map((x) => x.token.address),
    ...a.members.map((x) => x.token.address),
    ...a.sales.items.map((x) => x.token.address),
  ]);
  const token = <T extends { token: TokenRef }>(x: T): T => ({ ...x, token: withCurrency(x.token, currencies) });
  return {
    ...a,
    tokens: a.tokens.map(token),
    members: a.members.map(token),
    sales: { ...a.sales, items: a.sales.items.map(token) },
  };
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
          ? { symbol: "ETH", decimals: 18, currency: "ETH" }
          : await lists.tokens(sale.token).catch(() => ({
              symbol: sale.token.slice(0, 8),
              decimals: null,
              currency: null,
            }));
      return {
        sale,
        productCode: batch?.productCode ?? null,
        lotCode: batch?.lotCode ?? null,
        cooperativeName: names.get(sale.cooperativeId) ?? `#${sale.cooperativeId}`,
        token: { address: sale.token, symbol: info.symbol, decimals: info.decimals, currency: info.currency },
      };
    }),
  );
  return auditHomeLists(c, { cooperatives, sales, total, offset });
}

/** The audit pages: a home to pick a sale or a cooperative, a sale's audit, a cooperative's over a period. */
function auditRoutesOf(app: Express, deps: AuditPageDeps, kit: AuditKit): void {
  const rates: RateLookup = (currency) => deps.payouts.latestRate(currency);
  app.get(
    "/audit",
    asAuditor(kit, async (req, res, c, user) => {
      const sale = idParam(req.query.sale);
      const coop = idParam(req.query.cooperative);
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
      const lists = await homeLists(deps.lists, c, offset);
      const body = html`<h1>${c.audit.title}</h1>
        <p><bdi>${user.displayName}</bdi></p>
        ${lists}
        <section aria-labelledby="by-number-title">
          <h2 id="by-number-title">${c.roles3.byNumber}</h2>
          ${pick("sale", c.audit.openSale)} ${pick("cooperative", c.audit.openCooperative)}
        </section>`;
      kit.signedIn(req, res, c, { title: c.audit.title, body });
    }),
  );

  downloadRoutes(app, deps, kit);

  app.get(
    "/audit/sales/:id",
    forId(kit, async (req, res, c, user, id) => {
      const files = downloadLinks(c, [
        { id: "sale-csv", href: `/audit/sales/${id}.csv`, label: c.roles3.saleCsv },
        { id: "sale-pack", href: `/audit/sales/${id}/pack`, label: c.roles3.salePack },
      ]);
      const audit = await saleWithCurrency(deps.lists.tokens, await deps.audit.sale(user, Number(id)));
      kit.signedIn(req, res, c, saleAuditPage(audit, c, files, rates));
    }),
  );

  app.get(
    "/audit/cooperatives/:id",
    forPeriod(kit, async (req, res, c, user, id, period) => {
      const audit = await cooperativeWithCurrency(
        deps.lists.tokens,
        await deps.audit.cooperative(user, Number(id), period.input),
      );
      const query = { from: period.from, to: period.to, offset: period.input.offset };
      // The CSV of the page shown: the same period and the same page of sales and claims.
      const files = downloadLinks(c, [
        {
          id: "cooperative-csv",
          href: `/audit/cooperatives/${id}.csv?${periodQuery(query)}`,
          label: c.roles3.cooperativeCsv,
        },
      ]);
      const reconciliation = deps.payouts.reconciliation(user, Number(id));
      const payouts = payoutsSection(c, reconciliation, `/audit/cooperatives/${id}/reconciliation.csv`, rates);
      kit.signedIn(req, res, c, cooperativeAuditPage(audit, c, query, files, { rates, payouts }));
    }),
  );
}

/**
 * The downloads of the audit pages, for the signed-in auditor's session (a browser sends no bearer header):
 * a sale's CSV and evidence pack, a cooperative's CSV for a period and its reconciliation of payouts,
 * exactly as the API serves them.
 * Registered before /audit/sales/:id, which would otherwise take "5.csv" for an id.
 */
function downloadRoutes(app: Express, deps: AuditPageDeps, kit: AuditKit): void {
  app.get(
    "/audit/sales/:id.csv",
    forId(kit, async (req, res, c, user, id) => {
      sendCsv(res, await deps.audit.saleCsv(user, Number(id)));
    }),
  );

  app.get(
    "/audit/sales/:id/pack",
    forId(kit, async (req, res, c, user, id) => {
      const pack = await deps.audit.salePack(user, Number(id));
      res.set("Cache-Control", "no-store");
      res.set("Content-Disposition", `attachment; filename="sale-${Number(id)}-pack.json"`);
      res.status(200).json(pack);
    }),
  );

  app.get(
    "/audit/cooperatives/:id/reconciliation.csv",
    forId(kit, (req, res, c, user, id) => {
      sendCsv(res, deps.payouts.reconciliationCsv(user, Number(id)));
    }),
  );

  app.get(
    "/audit/cooperatives/:id.csv",
    forPeriod(kit, async (req, res, c, user, id, period) => {
      sendCsv(res, await deps.audit.cooperativeCsv(user, Number(id), period.input));
    }),
  );
}

/** The audit pages; the application loads the browser's session (`sessions.load`) before every page. */
export function auditPageRoutes(app: Express, deps: AuditPageDeps, sessions: PageSessions): void {
  const kit = auditKit(deps, sessions);
  sessionRoutes(app, deps, sessions, kit);
  auditRoutesOf(app, deps, kit);
}
