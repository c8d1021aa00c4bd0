/**
 * The HTTP side of browser sessions, for every cookie-based page (audit pages, the workspace); never
 * for the bearer API, which does not read the cookie (so a cookie can never authorize an API call).
 *
 * - Cookie `ct_session`: the session id only (never a token), HttpOnly, SameSite=Lax (a link from
 *   another site opens a signed-in page; a cross-site POST carries no cookie), Path=/, Secure when
 *   PUBLIC_URL is https, Max-Age the absolute lifetime. The server-side row decides; the cookie is a
 *   pointer.
 * - Every state-changing form POST passes `requireCsrf`: its origin must be this gateway's, AND it
 *   must carry the session's CSRF token in the hidden field `csrf`. Sign-in forms, which have no
 *   session yet, pass `requireSameOrigin` (login CSRF).
 * - The origin rule: when `Origin` is present it must be this gateway's origin (PUBLIC_URL's, or the
 *   one the browser addressed: scheme + Host); the literal `null` (sandboxed frames, data: pages,
 *   and pages served with `no-referrer`) is refused. Without `Origin`, `Referer`'s origin must match
 *   instead; with neither, the POST is refused: every browser in use sends one of them on a form
 *   POST from a page with the `same-origin` referrer policy, which is why pages with forms must use
 *   it (`formPage`): with `no-referrer` a browser sends `Origin: null` on its own forms.
 * - Failed sign-ins count in the shared per-address limiter (authLimit.ts): past the limit, a 429 page.
 */
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "../log";
import type { User, UserStore } from "../custody/users";
import type { Db } from "../store/db";
import { html, type Html } from "../pages/html";
import { CATALOGS, chooseLang, isLang, type Catalog, type Lang } from "../pages/i18n";
import { layout } from "../pages/views/layout";
import { createAuthLimiter, type AuthLimiter } from "./authLimit";
import { createSessionStore, csrfMatches, type Session, type SessionStore } from "./store";

export const SESSION_COOKIE = "ct_session";
/** The hidden form field that carries the CSRF token. */
export const CSRF_FIELD = "csrf";
/** The referrer policy of every page that holds a form (see the origin rule above). */
export const FORM_REFERRER_POLICY = "same-origin";

const REFUSAL_CSP =
  "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

declare module "express-serve-static-core" {
  interface Request {
    /** The browser session, set by `load` on page routes (with `user`). */
    session?: Session;
  }
}

export interface PageSessionsDeps {
  db: Db;
  users: Pick<UserStore, "get">;
  log: Logger;
  /** Read on each request: the gateway learns its own URL once it listens. */
  publicUrl: string;
  https: boolean;
  sessions: { ttlMs: number; idleMs: number };
  limits: { authFailuresPerMinute: number };
}

export interface PageSessions {
  /** The store (no Express): services use it too, e.g. `store.revokeAllForUser` for a revoked card. */
  store: SessionStore;
  /** Failed authentications per client address, shared with the API's bearer tokens. */
  limiter: AuthLimiter;
  /** Middleware: loads the live session behind `ct_session` into `req.session` and `req.user`; never refuses. */
  load: RequestHandler;
  /** Starts a session for `user` (ending the one this browser had), sets the cookie, fills `req.session`/`req.user`. */
  signIn(res: Response, user: User): Session;
  /** Ends this browser's session server-side and clears the cookie. */
  signOut(req: Request, res: Response): void;
  /** Middleware for state-changing form POSTs (after the body parser): same origin AND the session's token. */
  requireCsrf: RequestHandler;
  /** Middleware for sign-in POSTs (no session yet): same origin only. */
  requireSameOrigin: RequestHandler;
  /** The hidden CSRF field of `req.session`, for every form (empty without a session). */
  csrfField(req: Request): Html;
  /**
   * Before checking a credential: true when the client's address may try; otherwise a 429 page with
   * Retry-After has been sent.
   */
  mayAttempt(req: Request, res: Response): boolean;
  /** A credential failed: counted for the client's address and logged (address and reason, never the secret). */
  failedAttempt(req: Request, reason: string): void;
}

/** The value of one cookie from a Cookie header (no package: `name=value` pairs separated by `;`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

function originOf(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const o = new URL(url).origin;
    return o === "null" ? null : o;
  } catch {
    return null;
  }
}

export function createPageSessions(deps: PageSessionsDeps): PageSessions {
  const store = createSessionStore({ db: deps.db, ...deps.sessions });
  const limiter = createAuthLimiter({ perMinute: deps.limits.authFailuresPerMinute, log: deps.log });
  const maxAge = Math.floor(deps.sessions.ttlMs / 1000);
  const cookie = (value: string, age: number) =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${age}${deps.https ? "; Secure" : ""}`;
  const clearCookie = (res: Response) => res.append("Set-Cookie", cookie("", 0));

  /** Why a POST is not from this gateway's own pages, or null when it is. */
  function foreignOrigin(req: Request): string | null {
    const allowed = new Set<string>();
    const own = originOf(deps.publicUrl);
    if (own) allowed.add(own);
    const host = req.get("host");
    // The origin the browser addressed: a cross-site page cannot make a browser send our Host with
    // its own Origin, and a rebound name (Host = the attacker's) holds none of our cookies.
    if (host) {
      const addressed = originOf(`${req.protocol}://${host}`);
      if (addressed) allowed.add(addressed);
    }
    const origin = req.get("origin");
    if (origin !== undefined) {
      if (origin === "null") return "origin_null";
      return allowed.has(origin) ? null : "origin_mismatch";
    }
    const referer = req.get("referer");
    if (referer === undefined) return "origin_missing";
    const from = originOf(referer);
    return from !== null && allowed.has(from) ? null : "referer_mismatch";
  }

  function catalogFor(req: Request): Catalog {
    const bodyLang = (req.body as Record<string, unknown> | undefined)?.lang;
    return CATALOGS[chooseLang(isLang(bodyLang) ? bodyLang : req.query.lang, req.get("accept-language"))];
  }

  function refuse(req: Request, res: Response, status: number, title: string, text: string): void {
    const c = catalogFor(req);
    res.status(status).set({
      "Content-Security-Policy": REFUSAL_CSP,
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": FORM_REFERRER_POLICY,
      "Content-Language": c.lang,
      "Cache-Control": "no-store",
    });
    const body = html`<div class="banner bad" role="alert" id="refused"><strong>${title}</strong>${text}</div>`;
    res.type("html").send(
      layout({
        c,
        title,
        hrefFor: (lang: Lang) => `${req.path}?lang=${lang}`,
        body,
        noindex: true,
      }),
    );
  }

  function formRefused(req: Request, res: Response, reason: string): void {
    deps.log.warn({ ip: req.ip, path: req.path, reason }, "form refused");
    const c = catalogFor(req);
    refuse(req, res, 403, c.session.formRefusedTitle, c.session.formRefusedText);
  }

  return {
    store,
    limiter,

    load(req, res, next) {
      const id = readCookie(req.get("cookie"), SESSION_COOKIE);
      if (id === undefined || id === "") return next();
      const session = store.touch(id);
      const user = session === null ? undefined : deps.users.get(session.userId);
      if (session === null || user === undefined) {
        // A dead cookie is dropped, so the browser stops presenting it.
        clearCookie(res);
        return next();
      }
      req.session = session;
      req.user = user;
      next();
    },

    signIn(res, user) {
      const req = res.req;
      // A new id at every sign-in: an id planted in this browser before (session fixation) is worthless.
      const previous = readCookie(req.get("cookie"), SESSION_COOKIE);
      if (previous) store.revoke(previous);
      const { id, session } = store.create(user.id);
      res.append("Set-Cookie", cookie(id, maxAge)).set("Cache-Control", "no-store");
      req.session = session;
      req.user = user;
      deps.log.info(
        { userId: user.id, role: user.role, expiresAt: new Date(session.expiresAt).toISOString() },
        "session started",
      );
      return session;
    },

    signOut(req, res) {
      const id = readCookie(req.get("cookie"), SESSION_COOKIE);
      if (id) store.revoke(id);
      clearCookie(res);
      res.set("Cache-Control", "no-store");
      if (req.user) deps.log.info({ userId: req.user.id }, "session ended");
      req.session = undefined;
      req.user = undefined;
    },

    requireCsrf(req, res, next) {
      const foreign = foreignOrigin(req);
      if (foreign !== null) return formRefused(req, res, foreign);
      if (req.session === undefined) return formRefused(req, res, "no_session");
      const submitted = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      if (!csrfMatches(req.session, submitted)) return formRefused(req, res, "csrf_token");
      next();
    },

    requireSameOrigin(req, res, next) {
      const foreign = foreignOrigin(req);
      if (foreign !== null) return formRefused(req, res, foreign);
      next();
    },

    csrfField(req) {
      return req.session === undefined
        ? html``
        : html`<input type="hidden" name="${CSRF_FIELD}" value="${req.session.csrfToken}" />`;
    },

    mayAttempt(req, res) {
      const wait = limiter.retryAfter(req.ip);
      if (wait === 0) return true;
      const c = catalogFor(req);
      res.set("Retry-After", String(wait));
      refuse(req, res, 429, c.session.rateLimitedTitle, c.session.rateLimitedText(wait));
      return false;
    },

    failedAttempt(req, reason) {
      limiter.fail(req.ip, reason);
    },
  };
}
