/**
 * Selling and buying in the workspace, with no script:
 *
 * - GET/POST /signup: a buyer's account (services.users.signUpBuyer); its key is shown once on the
 *   confirmation page and a session opens at once (limited per address, like the API's sign-up);
 * - /w/buyer/funds: test money from the faucet (the embedded demo chain only), a refusal said kindly;
 * - /market/<saleId>: one offer, "buy" for a signed-in buyer → services.sales.fund → a confirmation;
 * - /w/buyer/orders: the buyer's orders, each state in words, confirm delivery / report a problem;
 * - /w/manager/sales/<saleId>: the manager marks a paid sale shipped, or cancels an offer.
 *
 * Every write: CSRF (same-origin for the sign-up, which has no session yet), the service's own zod
 * schema, the once-key (a double submit writes once), then a 303 to a confirmation page.
 */
import { randomBytes } from "node:crypto";
import express, { type Express, type Request, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import { parseEther } from "viem";
import { ZERO_ADDRESS as ZeroAddress } from "../../chain/address";
import type { GatewayContext } from "../../api/context";
import type { User } from "../../custody/users";
import type { Sale } from "../../index/queries";
import type { Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import { createTokenLookup } from "../../pages/tokens";
import { requireRole } from "../../services/access";
import { DomainError } from "../../services/errors";
import { buyerStepInput, offerSaleInput, shipInput, withdrawInput } from "../../services/sales";
import { buyerSignUpInput } from "../../services/users";
import type { PageSessions } from "../../sessions/http";
import type { FieldProblem } from "../views/components";
import { createFormOnce, formKey, ONCE_FIELD, parseForm, problemsOf } from "../forms";
import { catalogFor, pageKit } from "../http";
import { opQuery, pendingWrite } from "../progress";
import {
  fundsPage,
  managerSalePage,
  offerFormPage,
  offerPage,
  ordersPage,
  signedUpPage,
  signUpPage,
  stepDonePage,
  type SaleView,
  type TokenView,
} from "./views";

/** A new buyer's key waits in memory for its confirmation page, and is forgotten once shown. */
const DONE_TTL_MS = 30 * 60_000;

type Body = Record<string, string | undefined>;

const saleIdOf = (req: Request): number => {
  const n = Number(req.params.saleId);
  if (!Number.isSafeInteger(n) || n < 1) throw new DomainError("not_found", "sale_not_found", "no such sale");
  return n;
};

const onceOf = (req: Request): string | undefined => {
  const v = (req.body as Record<string, unknown> | undefined)?.[ONCE_FIELD];
  return typeof v === "string" ? v : undefined;
};

export function salesRoutes(app: Express, ctx: GatewayContext, sessions: PageSessions): void {
  const { services, queries } = ctx;
  const tokens = createTokenLookup(ctx.client);
  const once = createFormOnce(ctx.db);
  const form = express.urlencoded({ extended: false, limit: "2kb", parameterLimit: 10 });
  const signUpLimit = rateLimit({ windowMs: 60 * 60_000, limit: 20, standardHeaders: "draft-7", legacyHeaders: false });
  const signedUp = new Map<string, { token: string | null; at: number }>();

  const { page, signedIn, guarded } = pageKit({ back: (c) => c.buying.back });

  const tokenViewOf = async (address: string): Promise<TokenView> => {
    if (address === ZeroAddress) return { symbol: "ETH", decimals: 18 };
    // A token whose decimals cannot be read now is shown in its smallest unit rather than not at all.
    const info = await tokens(address).catch(() => null);
    return info === null
      ? { symbol: address.slice(0, 8), decimals: null }
      : { symbol: info.symbol, decimals: info.decimals };
  };

  const viewOf = async (sale: Sale): Promise<SaleView> => {
    const batch = queries.getBatch(sale.batchId);
    const coop = queries.getCooperative(sale.cooperativeId);
    const token = await tokenViewOf(sale.token);
    return {
      sale,
      productCode: batch?.productCode ?? "",
      lotCode: batch?.lotCode ?? "",
      unit: batch?.unit ?? "",
      cooperativeName: coop?.name ?? "",
      token,
    };
  };

  app.get("/signup", (req, res) => page(req, res, 200, signUpPage(catalogFor(req), { problems: [], once: formKey() })));

  app.post("/signup", signUpLimit, form, sessions.requireSameOrigin, (req, res) => {
    const c = catalogFor(req);
    const b = req.body as Record<string, unknown>;
    const value = typeof b.displayName === "string" ? b.displayName : "";
    const parsed = parseForm(c, buyerSignUpInput, { displayName: value.trim() });
    if (!parsed.ok) return page(req, res, 400, signUpPage(c, { value, problems: parsed.problems, once: formKey() }));
    const { user, token } = services.users.signUpBuyer(parsed.data);
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

  const funds = (req: Request, res: Response, outcome?: "done" | "refused") => {
    const c = catalogFor(req);
    const view = fundsPage(c, {
      available: services.users.hasFaucet,
      outcome,
      csrf: sessions.csrfField(req),
      once: formKey(),
    });
    page(req, res, 200, view);
  };

  app.get(
    "/w/buyer/funds",
    guarded((req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      requireRole(s.user, "buyer");
      const shown = req.query.outcome;
      funds(req, res, shown === "done" || shown === "refused" ? shown : undefined);
    }),
  );

  app.post(
    "/w/buyer/funds",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      requireRole(s.user, "buyer");
      let outcome: "done" | "refused" = "done";
      try {
        await once.run(s.user.id, onceOf(req), async () => {
          await services.users.useFaucet(s.user);
          return "done";
        });
      } catch (err) {
        // Already paid today: not an error of hers, said in plain words on the same page.
        if (err instanceof DomainError && err.code === "faucet_used") outcome = "refused";
        else throw err;
      }
      res.redirect(303, `/w/buyer/funds?outcome=${outcome}&lang=${s.c.lang}`);
    }),
  );

  app.get(
    "/market/:saleId",
    guarded(async (req, res) => {
      const c = catalogFor(req);
      const sale = services.sales.get(saleIdOf(req));
      const canBuy = req.user?.role === "buyer" && (sale.buyer === ZeroAddress || sale.buyer === req.user.address);
      const view = offerPage(c, {
        s: await viewOf(sale),
        canBuy,
        signedIn: req.user !== undefined,
        csrf: sessions.csrfField(req),
        once: formKey(),
      });
      page(req, res, 200, view);
    }),
  );

  app.post(
    "/market/:saleId/buy",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const saleId = saleIdOf(req);
      const location = await once.run(s.user.id, onceOf(req), async () => {
        await services.sales.fund(s.user, saleId);
        return `/w/buyer/orders/${saleId}/done/bought`;
      });
      res.redirect(303, `${location}?lang=${s.c.lang}`);
    }),
  );

  app.get(
    "/w/buyer/orders",
    guarded(async (req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const orders = await Promise.all(services.sales.orders(s.user).map(viewOf));
      const refunds = await Promise.all(
        services.sales
          .refunds(s.user)
          .map(async (r) => ({ token: r.token, amount: BigInt(r.amount), view: await tokenViewOf(r.token) })),
      );
      page(req, res, 200, ordersPage(s.c, { orders, refunds, csrf: sessions.csrfField(req), once: formKey }));
    }),
  );

  // Money returned after a refund: back to the buyer's own account (the escrow's pull payment).
  app.post(
    "/w/buyer/withdraw",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const parsed = parseForm(s.c, withdrawInput, { token: (req.body as Record<string, unknown>).token });
      // The form has only hidden fields: a bad one is a hand-made request, refused as such.
      if (!parsed.ok) throw new DomainError("not_found", "token_not_found", "no such currency");
      const location = await once.run(s.user.id, onceOf(req), async () => {
        const r = await services.sales.withdraw(s.user, parsed.data);
        return `/w/buyer/withdrawn${opQuery(r.outcome)}`;
      });
      res.redirect(303, `${location}${location.includes("?") ? "&" : "?"}lang=${s.c.lang}`);
    }),
  );

  app.get(
    "/w/buyer/withdrawn",
    guarded((req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const t = s.c.buying;
      const pending = pendingWrite(req.query.op, s.user.id, ctx.relayer.status, req.originalUrl);
      const view = stepDonePage(s.c, {
        title: t.withdrawnTitle,
        text: t.withdrawnText,
        pending,
        next: `/w/buyer/orders?lang=${s.c.lang}`,
        nextLabel: t.openOrders,
      });
      page(req, res, 200, view);
    }),
  );

  for (const step of ["confirm", "dispute"] as const) {
    app.post(
      `/w/buyer/orders/:saleId/${step}`,
      form,
      sessions.requireCsrf,
      guarded(async (req, res) => {
        const s = signedIn(req, res);
        if (s === null) return;
        const saleId = saleIdOf(req);
        const parsed = parseForm(s.c, buyerStepInput, {});
        if (!parsed.ok) throw new DomainError("not_found", "sale_not_found", "no such sale");
        const location = await once.run(s.user.id, onceOf(req), async () => {
          const r = await services.sales[step](s.user, saleId, parsed.data);
          return `/w/buyer/orders/${saleId}/done/${step}${opQuery(r.outcome)}`;
        });
        res.redirect(303, `${location}${location.includes("?") ? "&" : "?"}lang=${s.c.lang}`);
      }),
    );
  }

  app.get(
    "/w/buyer/orders/:saleId/done/:what",
    guarded((req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const t = s.c.buying;
      const kind = String(req.params.what);
      const pending = pendingWrite(req.query.op, s.user.id, ctx.relayer.status, req.originalUrl);
      const title = kind === "bought" ? t.boughtTitle : kind === "confirm" ? t.confirmedTitle : t.disputedTitle;
      const text = kind === "bought" ? t.boughtText : t.stepText;
      page(
        req,
        res,
        200,
        stepDonePage(s.c, { title, text, pending, next: `/w/buyer/orders?lang=${s.c.lang}`, nextLabel: t.openOrders }),
      );
    }),
  );

  managerSaleRoutes(app, ctx, sessions, { page, signedIn, guarded, viewOf, form });
}

interface ManagerHelpers {
  page: (req: Request, res: Response, status: number, view: { title: string; body: Html }) => void;
  signedIn: (req: Request, res: Response) => { user: User; c: Catalog } | null;
  guarded: (
    handler: (req: Request, res: Response) => Promise<void> | void,
  ) => (req: Request, res: Response) => Promise<void>;
  viewOf: (sale: Sale) => Promise<SaleView>;
  form: express.RequestHandler;
}

/** The manager's side of one sale: ship what was paid for, or cancel an offer nobody paid. */
function managerSaleRoutes(app: Express, ctx: GatewayContext, sessions: PageSessions, h: ManagerHelpers): void {
  const { services } = ctx;
  const once = createFormOnce(ctx.db);

  const offerForm = (
    req: Request,
    res: Response,
    status: number,
    batchId: string,
    values: Body,
    problems: FieldProblem[],
  ) => {
    const batch = ctx.queries.getBatch(batchId);
    if (batch === null) throw new DomainError("not_found", "batch_not_found", "no such lot");
    const view = offerFormPage(catalogFor(req), {
      batch: { ...batch, available: String(batch.available ?? batch.quantity) },
      values,
      problems,
      csrf: sessions.csrfField(req),
      once: values[ONCE_FIELD] ?? formKey(),
    });
    h.page(req, res, status, view);
  };

  app.get(
    "/w/manager/sales/new",
    h.guarded((req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      const batchId = String(req.query.batch ?? "");
      const batch = ctx.queries.getBatch(batchId);
      if (batch === null) throw new DomainError("not_found", "batch_not_found", "no such lot");
      // Only the lot's cooperative's manager may sell it (openSales asks requireCoopAdmin).
      services.sales.openSales(s.user, Number(batch.cooperativeId));
      offerForm(req, res, 200, batchId, {}, []);
    }),
  );

  app.post(
    "/w/manager/sales",
    h.form,
    sessions.requireCsrf,
    h.guarded(async (req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      const b = req.body as Body;
      const batchId = b.batchId ?? "";
      const values = { quantity: b.quantity, price: b.price, [ONCE_FIELD]: b[ONCE_FIELD] };
      // "0,05" or "0.05" ETH → wei; anything else goes to the schema as is, to be refused beside the field.
      const priceText = (b.price ?? "").trim().replace(",", ".");
      let price: string = priceText;
      try {
        if (/^[0-9]+(\.[0-9]{1,18})?$/.test(priceText)) price = parseEther(priceText).toString();
      } catch {
        price = priceText;
      }
      const parsed = parseForm(s.c, offerSaleInput, { batchId, quantity: (b.quantity ?? "").trim(), price });
      if (!parsed.ok) return offerForm(req, res, 400, batchId, values, parsed.problems);
      try {
        const location = await once.run(s.user.id, b[ONCE_FIELD], async () => {
          const r = await services.sales.offer(s.user, parsed.data);
          return r.saleId === null
            ? `/w/manager/sales/new?batch=${batchId}`
            : `/w/manager/sales/${r.saleId}/done/offered${opQuery(r.outcome)}`;
        });
        res.redirect(303, `${location}${location.includes("?") ? "&" : "?"}lang=${s.c.lang}`);
      } catch (err) {
        const fields = problemsOf(err);
        if (fields === null) throw err;
        offerForm(req, res, 400, batchId, values, fields);
      }
    }),
  );

  app.get(
    "/w/manager/sales/:saleId",
    h.guarded(async (req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      const sale = services.sales.get(saleIdOf(req));
      // Only the cooperative's manager sees this page (openSales asks requireCoopAdmin).
      services.sales.openSales(s.user, sale.cooperativeId);
      h.page(
        req,
        res,
        200,
        managerSalePage(s.c, { s: await h.viewOf(sale), csrf: sessions.csrfField(req), once: formKey }),
      );
    }),
  );

  for (const step of ["ship", "cancel"] as const) {
    app.post(
      `/w/manager/sales/:saleId/${step}`,
      h.form,
      sessions.requireCsrf,
      h.guarded(async (req, res) => {
        const s = h.signedIn(req, res);
        if (s === null) return;
        requireRole(s.user, "coop_admin");
        const saleId = saleIdOf(req);
        const location = await once.run(s.user.id, onceOf(req), async () => {
          const r =
            step === "ship"
              ? await services.sales.ship(s.user, saleId, shipInput.parse({}))
              : await services.sales.cancel(s.user, saleId);
          return `/w/manager/sales/${saleId}/done/${step}${opQuery(r.outcome)}`;
        });
        res.redirect(303, `${location}${location.includes("?") ? "&" : "?"}lang=${s.c.lang}`);
      }),
    );
  }

  app.get(
    "/w/manager/sales/:saleId/done/:what",
    h.guarded((req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      const t = s.c.buying;
      const what = String(req.params.what);
      const title = what.startsWith("ship")
        ? t.shippedTitle
        : what.startsWith("offered")
          ? t.offeredTitle
          : t.cancelledTitle;
      h.page(
        req,
        res,
        200,
        stepDonePage(s.c, {
          title,
          text: "",
          pending: pendingWrite(req.query.op, s.user.id, ctx.relayer.status, req.originalUrl),
          next: `/w/manager/sales/${saleIdOf(req)}?lang=${s.c.lang}`,
          nextLabel: t.saleTitle(String(saleIdOf(req))),
        }),
      );
    }),
  );
}
