/**
 * The browser workspace's first pages, server-rendered, with no script (the strict CSP stays):
 *
 * - `/` home and `/find` (a GET form: a unique match goes straight to the lot's public page),
 *   `/cooperatives` the public directory;
 * - `/signin` (a token, posted once, exchanged for a server-side session), `/c/<card>` (a member card
 *   and its PIN), `POST /signout`;
 * - `/w` the signed-in home of every role.
 *
 * Sign-in POSTs pass `requireSameOrigin` (login CSRF) and the per-address guessing limit; sign-out
 * carries the session's CSRF token. Secrets (tokens, PINs) come only in POST bodies, which nothing logs.
 */
import express, { type Express, type Request, type RequestHandler, type Response } from "express";
import { isValidGtin, LOT_PATTERN } from "../../domain/gs1";
import type { HttpDeps } from "../api/context";
import type { User } from "../custody/users";
import { DomainError } from "../services/errors";
import { typedPin } from "../services/cards";
import { pageHref } from "../pages/links";
import type { PageSessions } from "../sessions/http";
import { catalogFor, progressRoutes, sendPage } from "./http";
import { webDeps, type WebDeps } from "./deps";
import { FIND_LIMIT } from "../index";
import { managerRoutes } from "./manager/routes";
import { roleRoutes } from "./roles/routes";
import { salesRoutes } from "./sales/routes";
import { COOPERATIVE_PAGE_LOTS, cooperativePage, directoryPage } from "./views/directory";
import { html } from "../pages/html";
import { homePage, lotPath, type HomeModel } from "./views/home";
import { cardPage, cardRefusedPage, signInPage } from "./views/signin";
import { workspacePage, type MoneyLine, type WorkspaceModel } from "./views/workspace";
import type { FieldProblem } from "./views/components";

const DIRECTORY_PAGE_SIZE = 50;

function queryText(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, max) : undefined;
}

function bodyText(req: Request, name: string): string | undefined {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === "string" ? v : undefined;
}

export function webRoutes(app: Express, deps: Pick<HttpDeps, "services" | "stores">, sessions: PageSessions): void {
  // Every area takes these named parts (deps.ts), not the whole of the HTTP layer's dependencies.
  const web = webDeps(deps);
  const { services, lookups } = web;
  // Sign-in forms are tiny: a token or a PIN and the language.
  const form = express.urlencoded({ extended: false, limit: "2kb", parameterLimit: 10 });

  const home = (req: Request, res: Response, status: number, model: Omit<HomeModel, "signedIn">) => {
    const c = catalogFor(req);
    const page = homePage(c, { ...model, signedIn: req.user !== undefined });
    const hrefFor = (lang: string) => pageHref(req.path, { lot: model.lot, gtin: model.gtin, lang });
    sendPage(req, res, c, status, page.title, page.body, {
      hrefFor,
      cache: status === 200 && req.user === undefined ? "public" : "no-store",
    });
  };

  app.get("/", (req, res) => home(req, res, 200, { problems: [], matches: null, more: false }));

  app.get("/find", (req, res) => {
    const c = catalogFor(req);
    const lot = queryText(req.query.lot, 40);
    const gtinText = queryText(req.query.gtin, 20)?.replace(/[\s-]/g, "");
    const problems: FieldProblem[] = [];
    if (lot === undefined && gtinText === undefined) problems.push({ field: "lot", message: c.home.enterOne });
    if (lot !== undefined && !LOT_PATTERN.test(lot)) problems.push({ field: "lot", message: c.home.badLot });
    if (gtinText !== undefined && !isValidGtin(gtinText)) problems.push({ field: "gtin", message: c.home.badGtin });
    const shown = { lot, gtin: gtinText };
    if (problems.length > 0) return home(req, res, 400, { ...shown, problems, matches: null, more: false });
    const found = lookups.findLots({ lot, gtin: gtinText === undefined ? undefined : BigInt(gtinText) });
    if (found.length === 0) {
      const where = lot !== undefined ? "lot" : "gtin";
      return home(req, res, 404, {
        ...shown,
        problems: [{ field: where, message: c.home.nothing }],
        matches: null,
        more: false,
      });
    }
    if (found.length === 1) {
      res.set("Cache-Control", "no-store").redirect(303, `${lotPath(found[0])}?lang=${c.lang}`);
      return;
    }
    home(req, res, 200, {
      ...shown,
      problems: [],
      matches: found.slice(0, FIND_LIMIT),
      more: found.length > FIND_LIMIT,
    });
  });

  app.get("/cooperatives", (req, res) => {
    const c = catalogFor(req);
    const pageNumber = Math.min(Math.max(Number.parseInt(String(req.query.page ?? "1"), 10) || 1, 1), 10_000);
    const page = services.cooperatives.list({
      limit: DIRECTORY_PAGE_SIZE,
      offset: (pageNumber - 1) * DIRECTORY_PAGE_SIZE,
    });
    const link = (n: number) => pageHref("/cooperatives", { page: n, lang: c.lang });
    const view = directoryPage(c, page, {
      previous: pageNumber > 1 ? link(pageNumber - 1) : null,
      next: pageNumber * DIRECTORY_PAGE_SIZE < page.total ? link(pageNumber + 1) : null,
    });
    sendPage(req, res, c, 200, view.title, view.body, {
      hrefFor: (lang) => pageHref("/cooperatives", { page: pageNumber > 1 ? pageNumber : undefined, lang }),
      cache: req.user === undefined ? "public" : "no-store",
    });
  });

  app.get("/cooperatives/:id", (req, res) => {
    const c = catalogFor(req);
    const id = /^[1-9]\d{0,9}$/.test(String(req.params.id)) ? Number(req.params.id) : null;
    const coop = id === null ? null : web.getCooperative(id);
    const hrefFor = (lang: string) => pageHref(`/cooperatives/${String(req.params.id)}`, { lang });
    const cache = req.user === undefined ? "public" : "no-store";
    if (coop === null) {
      const body = html`<h1>${c.directory.notFoundTitle}</h1>
        <p>${c.directory.notFoundText}</p>
        <p><a href="${`/cooperatives?lang=${c.lang}`}">${c.directory.title}</a></p>`;
      return sendPage(req, res, c, 404, c.directory.notFoundTitle, body, { hrefFor, cache });
    }
    const lots = web.listBatches({ cooperativeId: coop.cooperativeId, limit: COOPERATIVE_PAGE_LOTS });
    const view = cooperativePage(c, coop, lots);
    sendPage(req, res, c, 200, view.title, view.body, { hrefFor, cache });
  });

  signInRoutes(app, web, sessions, form);
  progressRoutes(app, web.status);
  managerRoutes(app, web, sessions);
  salesRoutes(app, web, sessions);
  roleRoutes(app, web, sessions);

  app.get("/w", async (req, res) => {
    const c = catalogFor(req);
    const user = req.user;
    if (user === undefined) {
      res.set("Cache-Control", "no-store").redirect(303, `/signin?lang=${c.lang}`);
      return;
    }
    const model = await workspaceModel(web, user);
    const view = workspacePage(c, model);
    sendPage(req, res, c, 200, view.title, view.body, { noindex: true });
  });
}

function signInRoutes(app: Express, web: WebDeps, sessions: PageSessions, form: RequestHandler): void {
  const { services } = web;

  app.get("/signin", (req, res) => {
    const c = catalogFor(req);
    const view = signInPage(c, { signedOut: req.query.out === "1" && req.user === undefined });
    sendPage(req, res, c, 200, view.title, view.body, { noindex: true });
  });

  // Login CSRF: no session to hold a token yet, so the origin alone decides (never `Origin: null`).
  app.post("/signin", form, sessions.requireSameOrigin, (req, res) => {
    const c = catalogFor(req);
    if (!sessions.mayAttempt(req, res)) return;
    const token = bodyText(req, "token")?.trim() ?? "";
    const refuse = (status: number, error: string) => {
      const view = signInPage(c, { error });
      sendPage(req, res, c, status, view.title, view.body, { noindex: true });
    };
    if (token === "") return refuse(400, c.signin.missingToken);
    const user = web.authenticate(token);
    if (user === null) {
      sessions.failedAttempt(req, "signin_unknown_token");
      return refuse(401, c.signin.badToken);
    }
    sessions.signIn(res, user);
    res.redirect(303, `/w?lang=${c.lang}`);
  });

  const cardView = (req: Request, res: Response, status: number, cardId: string, error?: string) => {
    const c = catalogFor(req);
    let face;
    try {
      face = services.cards.face(cardId);
    } catch (err) {
      if (err instanceof DomainError && err.code === "card_not_found") return refused(req, res, 404, "notFound");
      throw err;
    }
    if (face.state !== "ok") return refused(req, res, 403, face.state);
    const coop = face.cooperativeId === null ? null : web.getCooperative(face.cooperativeId);
    const view = cardPage(
      c,
      { cardId: face.cardId, displayName: face.displayName, cooperativeName: coop?.name ?? null },
      error,
    );
    sendPage(req, res, c, status, view.title, view.body, { noindex: true });
  };
  const refused = (req: Request, res: Response, status: number, kind: "locked" | "revoked" | "notFound") => {
    const c = catalogFor(req);
    const view = cardRefusedPage(c, kind);
    sendPage(req, res, c, status, view.title, view.body, { noindex: true });
  };

  app.get("/c/:cardId", (req, res) => cardView(req, res, 200, String(req.params.cardId)));

  app.post("/c/:cardId", form, sessions.requireSameOrigin, async (req, res) => {
    const c = catalogFor(req);
    const cardId = String(req.params.cardId);
    if (!sessions.mayAttempt(req, res)) return;
    const pin = typedPin.safeParse(bodyText(req, "pin") ?? "");
    // Not a PIN at all (letters, 3 digits): no attempt is spent on a typing slip.
    if (!pin.success) return cardView(req, res, 400, cardId, c.card.badFormat);
    let user: User;
    try {
      user = await services.cards.signInWithCard(cardId, pin.data);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      switch (err.code) {
        case "wrong_pin": {
          sessions.failedAttempt(req, "card_wrong_pin");
          const left = Number(err.extra.triesLeft ?? 0);
          return left > 0 ? cardView(req, res, 401, cardId, c.card.wrongPin(left)) : refused(req, res, 403, "locked");
        }
        case "card_locked":
          sessions.failedAttempt(req, "card_locked");
          return refused(req, res, 403, "locked");
        case "card_revoked":
          return refused(req, res, 403, "revoked");
        case "card_not_found":
          sessions.failedAttempt(req, "card_unknown");
          return refused(req, res, 404, "notFound");
      }
      throw err;
    }
    sessions.signIn(res, user);
    res.redirect(303, `/w?lang=${c.lang}`);
  });

  // Signing out is a POST with the session's token: a link or a form on another site cannot end a session.
  app.post(
    "/signout",
    form,
    sessions.requireSameOrigin,
    (req, res, next) => {
      // A session that already ended has nothing to protect: the cookie is dropped all the same.
      if (req.session !== undefined) return next();
      sessions.signOut(req, res);
      res.redirect(303, `/signin?lang=${catalogFor(req).lang}&out=1`);
    },
    sessions.requireCsrf,
    (req, res) => {
      const c = catalogFor(req);
      sessions.signOut(req, res);
      res.redirect(303, `/signin?lang=${c.lang}&out=1`);
    },
  );
}

async function workspaceModel(web: WebDeps, user: User): Promise<WorkspaceModel> {
  const { lookups, services } = web;
  const cooperativeId =
    user.role === "coop_admin" && user.address !== null
      ? (lookups.cooperativeOfAdmin(user.address) ?? user.cooperativeId)
      : user.cooperativeId;
  const coop = cooperativeId === null ? null : web.getCooperative(cooperativeId);
  const model: WorkspaceModel = {
    displayName: user.displayName,
    role: user.role,
    cooperative: coop === null ? null : { name: coop.name, region: coop.region, womenLed: coop.womenLed },
    auditor: user.role === "auditor" || user.role === "platform_admin",
  };
  if (user.role === "member" && user.address !== null) {
    const lines: MoneyLine[] = [];
    for (const b of web.balancesOf(user.address)) {
      const claimed = BigInt(b.claimed);
      const claimable = BigInt(b.claimable);
      const total = BigInt(b.totalWeight);
      lines.push({
        batchId: b.batchId,
        productCode: b.productCode,
        lotCode: b.lotCode,
        gtin: lookups.gtinOf(b.batchId),
        partBps: total === 0n ? 0 : Number((BigInt(b.weight) * 10_000n) / total),
        token: await web.tokenView(b.token),
        earned: claimed + claimable,
        paid: claimed,
        due: claimable,
      });
    }
    model.money = lines;
  }
  if (user.role === "coop_admin" && coop !== null) {
    const batches = web.listBatches({ cooperativeId: coop.cooperativeId, limit: 100 });
    model.manager = {
      members: services.cooperatives
        .listMembers(user, coop.cooperativeId)
        .filter((m) => m.active)
        .map((m) => ({ displayName: m.displayName, account: m.account })),
      batches: batches.items,
      batchTotal: batches.total,
    };
  }
  return model;
}
