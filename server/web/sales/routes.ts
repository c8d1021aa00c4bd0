/**
 * Selling and buying in the workspace, with no script:
 *
 * - GET/POST /signup: a buyer's account (services.users.signUpBuyer); its key is shown once on the
 *   confirmation page and a session opens at once (limited per address, like the API's sign-up);
 * - /market/<saleId>: one offer, with "buy" for a signed-in buyer;
 * - the buyer's pages (buyer.ts: funds, buying, orders) and the manager's side of a sale (manager.ts).
 *
 * Every write: CSRF (same-origin for the sign-up, which has no session yet), the service's own zod
 * schema, the once-key (a double submit writes once), then a 303 to a confirmation page.
 */
import { randomBytes } from "node:crypto";
import express, { type Express } from "express";
import { rateLimit } from "express-rate-limit";
import { ZERO_ADDRESS as ZeroAddress } from "../../chain/address";
import { DomainError } from "../../services/errors";
import { buyerSignUpInput } from "../../services/users";
import type { PageSessions } from "../../sessions/http";
import type { WebDeps } from "../deps";
import { formKey, parseForm } from "../forms";
import { catalogFor, mountPages, pageKit, signedInRequest, type PageKit } from "../http";
import { buyerPages } from "./buyer";
import { saleIdOf, saleView } from "./kit";
import { managerSalePages } from "./manager";
import { offerPage, signedUpPage, signUpPage } from "./views";

/** A new buyer's key waits in memory for its confirmation page, and is forgotten once shown. */
const DONE_TTL_MS = 30 * 60_000;

export function salesRoutes(app: Express, web: WebDeps, sessions: PageSessions): void {
  const form = express.urlencoded({ extended: false, limit: "2kb", parameterLimit: 10 });
  const kit = pageKit({ back: (c) => c.buying.back });

  signUpRoutes(app, web, sessions, { kit, form });

  app.get(
    "/market/:saleId",
    kit.guarded(async (req, res) => {
      const c = catalogFor(req);
      const sale = web.services.sales.get(saleIdOf(req.params as Record<string, string>));
      const canBuy = req.user?.role === "buyer" && (sale.buyer === ZeroAddress || sale.buyer === req.user.address);
      const view = offerPage(c, {
        s: await saleView(web, sale),
        canBuy,
        signedIn: req.user !== undefined,
        csrf: sessions.csrfField(req),
        once: formKey(),
      });
      kit.page(req, res, 200, view);
    }),
  );

  mountPages(app, [...buyerPages(web), ...managerSalePages(web)], {
    kit,
    form,
    sessions,
    request: signedInRequest(kit, sessions, web.status),
  });
}

/** A buyer's account: no session yet, so the origin guards the form, and a limit per address. */
function signUpRoutes(
  app: Express,
  web: WebDeps,
  sessions: PageSessions,
  h: { kit: PageKit; form: express.RequestHandler },
): void {
  const { page, guarded } = h.kit;
  const signUpLimit = rateLimit({ windowMs: 60 * 60_000, limit: 20, standardHeaders: "draft-7", legacyHeaders: false });
  const signedUp = new Map<string, { token: string | null; at: number }>();

  app.get("/signup", (req, res) => page(req, res, 200, signUpPage(catalogFor(req), { problems: [], once: formKey() })));

  app.post("/signup", signUpLimit, h.form, sessions.requireSameOrigin, (req, res) => {
    const c = catalogFor(req);
    const b = req.body as Record<string, unknown>;
    const value = typeof b.displayName === "string" ? b.displayName : "";
    const parsed = parseForm(c, buyerSignUpInput, { displayName: value.trim() });
    if (!parsed.ok) return page(req, res, 400, signUpPage(c, { value, problems: parsed.problems, once: formKey() }));
    const { user, token } = web.services.users.signUpBuyer(parsed.data);
    sessions.signIn(res, user);
    const id = randomBytes(12).toString("base64url");
    signedUp.set(id, { token, at: Date.now() });
    res.redirect(303, `/signup/done/${id}?lang=${c.lang}`);
  });

  app.get(
    "/signup/done/:id",
    guarded((req, res) => {
      const c = catalogFor(req);
      for (const [k, v] of signedUp) if (Date.now() - v.at > DONE_TTL_MS) signedUp.delete(k);
      const d = signedUp.get(String(req.params.id));
      if (d === undefined) throw new DomainError("not_found", "not_found", "no such page");
      const token = d.token;
      d.token = null;
      page(req, res, 200, signedUpPage(c, { token }));
    }),
  );
}
