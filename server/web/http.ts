/**
 * The HTTP helpers of the workspace and the home pages: the language of a request, sending a page with
 * the strict headers of every page, and `personalizePages`, which puts the signed-in user's part of the
 * header into every HTML page (public, audit, workspace) just before it is sent.
 */
import type { Express, Request, RequestHandler, Response } from "express";
import type { User } from "../custody/users";
import { html, type Html } from "../pages/html";
import { CATALOGS, chooseLang, isLang, type Catalog, type Lang } from "../pages/i18n";
import { ACCOUNT_END, ACCOUNT_START, accountNav, layout } from "../pages/views/layout";
import { DomainError } from "../services/errors";
import type { OperationStatus } from "../relayer";
import type { Answer, Body, View, WebPage, WebRequest } from "./page";
import { PROGRESS_SCRIPT, pendingWrite, progressOf } from "./progress";
import { FORM_REFERRER_POLICY, type PageSessions } from "../sessions/http";

/**
 * The strict policy of every page: styles, forms and the one progress script of this origin only (no
 * inline script, no other site); the script may ask this origin how a write is going.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The language of a request: a form's `lang` field, then `?lang=`, then Accept-Language. */
export function catalogFor(req: Request): Catalog {
  const bodyLang = (req.body as Record<string, unknown> | undefined)?.lang;
  return CATALOGS[chooseLang(isLang(bodyLang) ? bodyLang : req.query.lang, req.get("accept-language"))];
}

export interface SendOptions {
  /** The same page in another language (default: this path with only `lang`). */
  hrefFor?: (lang: Lang) => string;
  noindex?: boolean;
  /** Public pages may be kept a little by caches; pages about a user or a form never are. */
  cache?: "public" | "no-store";
}

export function sendPage(
  req: Request,
  res: Response,
  c: Catalog,
  status: number,
  title: string,
  body: Html,
  options: SendOptions = {},
): void {
  const path = req.originalUrl.split("?")[0];
  res.status(status).set({
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": FORM_REFERRER_POLICY,
    "Content-Language": c.lang,
    "Cache-Control": options.cache === "public" ? "public, max-age=15" : "no-store",
  });
  res.vary("Accept-Language");
  res.type("html").send(
    layout({
      c,
      title,
      hrefFor: options.hrefFor ?? ((lang) => `${path}?lang=${lang}`),
      body,
      noindex: options.noindex,
      // Only a page with a write on its way loads the script that follows it (server/web/progress.ts).
      script: body.value.includes("data-operation=") ? PROGRESS_SCRIPT.path : undefined,
    }),
  );
}

/** The language a rendered page is in, from its `<html lang>` (the layout writes it first). */
function pageLang(page: string): Lang | undefined {
  const m = /^<!doctype html>\s*<html lang="([a-z]+)"/i.exec(page.slice(0, 200));
  return m !== null && isLang(m[1]) ? m[1] : undefined;
}

/**
 * Middleware for every page route (after `sessions.load`): when a user is signed in, the header's
 * account part of an HTML page becomes theirs (their entries, name and a sign-out form with the
 * session's CSRF token), and the answer is marked private. Pages are rendered, and the verify pages
 * cached, without knowing who asks; this is the one place that knows, after any cache.
 */
export function personalizePages(sessions: Pick<PageSessions, "csrfField">): RequestHandler {
  return (req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const user = req.user;
      const type = String(res.get("Content-Type") ?? "text/html");
      if (user === undefined || !type.startsWith("text/html")) return send(body);
      const page = typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : undefined;
      const start = page?.indexOf(ACCOUNT_START) ?? -1;
      const end = page?.indexOf(ACCOUNT_END) ?? -1;
      const lang = page === undefined ? undefined : pageLang(page);
      if (page === undefined || start < 0 || end < start || lang === undefined) return send(body);
      const path = req.originalUrl.split("?")[0];
      const own = accountNav(
        CATALOGS[lang],
        { displayName: user.displayName, role: user.role, csrfField: sessions.csrfField(req) },
        path,
      );
      // Kept by no cache: a page that says `no-store` already stays as it is; a public one becomes private.
      if (!/\bno-store\b/.test(String(res.get("Cache-Control") ?? ""))) res.set("Cache-Control", "private, no-store");
      res.vary("Cookie");
      return send(page.slice(0, start + ACCOUNT_START.length) + own.value + page.slice(end));
    };
    next();
  };
}

export type { View };

export type Guarded = (
  handler: (req: Request, res: Response) => Promise<void> | void,
) => (req: Request, res: Response) => Promise<void>;

export interface PageKit {
  /** Sends a workspace page: never cached, never indexed. */
  page(req: Request, res: Response, status: number, view: View): void;
  /** A service's refusal as a page in the reader's language: 403, 404, or 409 for the rest. */
  refusal(req: Request, res: Response, err: DomainError): void;
  /** The signed-in user (the services decide what her role may do); else /signin has been sent. */
  signedIn(req: Request, res: Response): { user: User; c: Catalog } | null;
  /** Runs a handler, turning a service's refusal into a page in the reader's language. */
  guarded: Guarded;
}

/**
 * The plumbing every area of the workspace shares. `back` names the link under a refusal (all lead to
 * /w); with `passInvalid`, an `invalid` refusal is left to the handler's own form errors (it rethrows).
 */
export function pageKit(options: { back: (c: Catalog) => string; passInvalid?: boolean }): PageKit {
  const page = (req: Request, res: Response, status: number, view: View) =>
    sendPage(req, res, catalogFor(req), status, view.title, view.body, { noindex: true });

  const refusal = (req: Request, res: Response, err: DomainError) => {
    const c = catalogFor(req);
    const status = err.kind === "forbidden" ? 403 : err.kind === "not_found" ? 404 : 409;
    const title = status === 404 ? c.errors.notFoundTitle : c.errors.errorTitle;
    const text =
      err.code === "form_in_progress" ? c.form.inProgress : status === 404 ? c.errors.notFoundText : c.errors.errorText;
    page(req, res, status, {
      title,
      body: html`<h1>${title}</h1>
        <p>${text}</p>
        <p><a href="${`/w?lang=${c.lang}`}">${options.back(c)}</a></p>`,
    });
  };

  const signedIn = (req: Request, res: Response): { user: User; c: Catalog } | null => {
    const c = catalogFor(req);
    if (req.user === undefined) {
      res.set("Cache-Control", "no-store").redirect(303, `/signin?lang=${c.lang}`);
      return null;
    }
    return { user: req.user, c };
  };

  const guarded: Guarded = (handler) => async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (err instanceof DomainError && !(options.passInvalid === true && err.kind === "invalid"))
        return refusal(req, res, err);
      throw err;
    }
  };

  return { page, refusal, signedIn, guarded };
}

/** A form's text fields (urlencoded without `extended`: a repeated field, an array, is left out). */
export function bodyOf(req: Request): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries((req.body as Record<string, unknown> | undefined) ?? {}))
    if (typeof v === "string") out[k] = v;
  return out;
}

/** The parts of a request a page handler takes (page.ts), for a reader already signed in. */
export function webRequest(
  req: Request,
  who: { user: User; c: Catalog },
  csrf: Html,
  status: (operationId: string) => OperationStatus | undefined,
): WebRequest {
  const query: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.query)) if (typeof v === "string") query[k] = v;
  const userId = who.user.id;
  return {
    ...who,
    body: req.method === "POST" ? bodyOf(req) : {},
    params: req.params as Record<string, string>,
    query,
    csrf,
    pending: pendingWrite(req.query.op, userId, status, req.originalUrl),
    progress: (op, self) => (op === null ? null : pendingWrite(op, userId, status, self)),
    url: req.originalUrl,
  };
}

/**
 * `request` for the pages of any signed-in reader (the services decide what her role may do); one who is
 * not signed in is sent to /signin.
 */
export function signedInRequest(
  kit: Pick<PageKit, "signedIn">,
  sessions: Pick<PageSessions, "csrfField">,
  status: (operationId: string) => OperationStatus | undefined,
): (req: Request, res: Response) => WebRequest | null {
  return (req, res) => {
    const s = kit.signedIn(req, res);
    return s === null ? null : webRequest(req, s, sessions.csrfField(req), status);
  };
}

/** A handler's answer as HTTP: a 303, a PDF to open in the browser, or a workspace page. */
export function sendAnswer(req: Request, res: Response, kit: Pick<PageKit, "page">, answer: Answer): void {
  if ("redirect" in answer) res.redirect(303, answer.redirect);
  else if ("pdf" in answer)
    res
      .status(200)
      .set({ "Cache-Control": "no-store", "Content-Disposition": `inline; filename="${answer.filename}"` })
      .type("application/pdf")
      .send(answer.pdf);
  else kit.page(req, res, answer.status, answer.view);
}

/**
 * Mounts an area's pages: a GET as it is, a POST behind the form parser and the session's CSRF check;
 * `request` builds what the handler takes (null: it has answered already, e.g. sent to /signin); a
 * service's refusal becomes a page (the kit's `guarded`).
 */
export function mountPages<R>(
  app: Express,
  pages: WebPage<R>[],
  o: {
    kit: Pick<PageKit, "page" | "guarded">;
    form: RequestHandler;
    sessions: Pick<PageSessions, "requireCsrf">;
    request: (req: Request, res: Response) => R | null;
  },
): void {
  for (const p of pages) {
    const handler = o.kit.guarded(async (req, res) => {
      const r = o.request(req, res);
      if (r === null) return;
      sendAnswer(req, res, o.kit, await p.handle(r));
    });
    if (p.method === "get") app.get(p.path, handler);
    else app.post(p.path, o.form, o.sessions.requireCsrf, handler);
  }
}

/** The progress script and the status it reads (server/web/progress.ts says why). */
export function progressRoutes(app: Express, status: (id: string) => OperationStatus | undefined): void {
  app.get(PROGRESS_SCRIPT.path, (_req, res) => {
    res
      .set({
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Type": "text/javascript; charset=utf-8",
      })
      .send(PROGRESS_SCRIPT.body);
  });

  app.get("/w/operations/:id", (req, res) => {
    res.set("Cache-Control", "no-store");
    const s = status(String(req.params.id));
    // Someone else's operation is unknown to you, as in the API.
    if (req.user === undefined || s === undefined || s.userId !== req.user.id) {
      res.status(404).json({ state: "unknown" });
      return;
    }
    res.json({ state: progressOf(s) });
  });
}
