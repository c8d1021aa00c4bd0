/**
 * The member's pages (role member, signed in with her card and PIN), under /w/member:
 *
 * - GET /w/member/money: per sale, her share, already paid, still owed; a "get paid" button per lot and
 *   currency where something is owed → POST /w/member/claim → 303 → a confirmation page;
 * - GET /w/member/deliveries: the lots she delivered to and her part of each.
 *
 * Reads and the claim are the services' (sales.memberShares, sales.claim, batches.memberDeliveries),
 * so the page and the API agree; the claim form is parsed with the API's own `claimInput`.
 */
import { randomBytes } from "node:crypto";
import express, { type Express, type Request, type Response } from "express";
import { ZERO_ADDRESS as ZeroAddress } from "../../chain/address";
import type { GatewayContext } from "../../api/context";
import { createTokenLookup } from "../../pages/tokens";
import { requireRole } from "../../services/access";
import { registerCooperativeInput } from "../../services/cooperatives";
import { claimInput } from "../../services/sales";
import { DomainError } from "../../services/errors";
import type { PageSessions } from "../../sessions/http";
import { createFormOnce, formKey, ONCE_FIELD, parseForm, problemsOf } from "../forms";
import type { FieldProblem } from "../views/components";
import { catalogFor, pageKit, type PageKit } from "../http";
import type { OperationStatus } from "../../relayer";
import { pendingWrite, progressOf } from "../progress";
import { createWebLookups } from "../lookup";
import { adminPages, type RolePage } from "./admin";
import { certifierPages } from "./certifier";
import { arbiterPages } from "./arbiter";
import {
  deliveriesPage,
  moneyPage,
  paidPage,
  registeredPage,
  registerFormPage,
  type MoneyGroup,
  type TokenView,
} from "./views";

/** A claim's confirmation is kept a short while in memory, for its owner only. */
const DONE_TTL_MS = 30 * 60_000;

type Helpers = Pick<PageKit, "page" | "signedIn" | "guarded"> & { once: ReturnType<typeof createFormOnce> };

export function roleRoutes(app: Express, ctx: GatewayContext, sessions: PageSessions): void {
  const { services, queries } = ctx;
  const lookups = createWebLookups(ctx.db);
  const tokens = createTokenLookup(ctx.client);
  const once = createFormOnce(ctx.db);
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 });
  const done = new Map<
    string,
    {
      owner: string;
      amount: bigint | null;
      token: TokenView;
      pending: boolean;
      operationId: string;
      batchId: string;
      at: number;
    }
  >();

  const { page, signedIn, guarded } = pageKit({ back: (c) => c.roles.back });

  const tokenView = async (address: string): Promise<TokenView> => {
    const param = address === ZeroAddress ? "ETH" : address;
    // A token whose decimals cannot be read now is shown in its smallest unit rather than not at all.
    const info = await tokens(address).catch(() => null);
    return info === null
      ? { param, symbol: address.slice(0, 8), decimals: null }
      : { param, symbol: info.symbol, decimals: info.decimals };
  };

  app.get(
    "/w/member/money",
    guarded(async (req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const groups = new Map<string, MoneyGroup>();
      for (const x of services.sales.memberShares(s.user)) {
        const key = `${x.batchId}/${x.token}`;
        let g = groups.get(key);
        if (g === undefined) {
          g = {
            batchId: x.batchId,
            productCode: x.productCode,
            lotCode: x.lotCode,
            gtin: lookups.gtinOf(x.batchId),
            token: await tokenView(x.token),
            sales: [],
            due: 0n,
          };
          groups.set(key, g);
        }
        g.sales.push({
          saleId: x.saleId,
          share: BigInt(x.share),
          paid: BigInt(x.claimed),
          due: BigInt(x.due),
          releasedAt: x.releasedAt,
        });
        g.due += BigInt(x.due);
      }
      page(
        req,
        res,
        200,
        moneyPage(s.c, { groups: [...groups.values()], csrf: sessions.csrfField(req), once: formKey }),
      );
    }),
  );

  app.post(
    "/w/member/claim",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const b = req.body as Record<string, unknown>;
      const parsed = parseForm(s.c, claimInput, { batchId: b.batchId, token: b.token });
      // The form has only hidden fields: a bad one is a hand-made request, refused as such.
      if (!parsed.ok) throw new DomainError("not_found", "batch_not_found", "no such lot or currency");
      const key = typeof b[ONCE_FIELD] === "string" ? b[ONCE_FIELD] : undefined;
      const location = await once.run(s.user.id, key, async () => {
        const r = await services.sales.claim(s.user, parsed.data);
        const id = randomBytes(12).toString("base64url");
        done.set(id, {
          owner: s.user.id,
          amount: r.amount === null ? null : BigInt(r.amount),
          token: await tokenView(parsed.data.token),
          pending: r.outcome.status !== "mined",
          operationId: r.outcome.operationId,
          batchId: parsed.data.batchId,
          at: Date.now(),
        });
        return `/w/member/paid/${id}`;
      });
      res.redirect(303, `${location}?lang=${s.c.lang}`);
    }),
  );

  app.get(
    "/w/member/paid/:id",
    guarded((req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      for (const [k, v] of done) if (Date.now() - v.at > DONE_TTL_MS) done.delete(k);
      const d = done.get(String(req.params.id));
      if (d === undefined || d.owner !== s.user.id) throw new DomainError("not_found", "not_found", "no such page");
      const batch = queries.getBatch(d.batchId);
      // A claim sent but not yet mined is looked up again on each visit (the progress script comes back here).
      const progress = d.pending ? progressOf(ctx.relayer.status(d.operationId)) : "done";
      page(
        req,
        res,
        200,
        paidPage(s.c, {
          amount: d.amount,
          token: d.token,
          progress,
          operationId: d.operationId,
          self: `/w/member/paid/${String(req.params.id)}?lang=${s.c.lang}`,
          lot: { productCode: batch?.productCode ?? "", lotCode: batch?.lotCode ?? "" },
        }),
      );
    }),
  );

  registrarRoutes(app, ctx, sessions, { page, signedIn, guarded, once });
  mountPages(app, sessions, { page, signedIn, guarded, once }, ctx.relayer.status, [
    ...adminPages(services, once),
    ...certifierPages(services, once),
    ...arbiterPages(services, once, tokens),
  ]);

  app.get(
    "/w/member/deliveries",
    guarded((req, res) => {
      const s = signedIn(req, res);
      if (s === null) return;
      const lots = services.batches.memberDeliveries(s.user).map((b) => ({
        ...b,
        partBps: BigInt(b.totalWeight) === 0n ? 0 : Number((BigInt(b.weight) * 10_000n) / BigInt(b.totalWeight)),
      }));
      page(req, res, 200, deliveriesPage(s.c, lots));
    }),
  );
}

/** The development office (role registrar): a cooperative and its manager, the manager's key shown once. */
function registrarRoutes(app: Express, ctx: GatewayContext, sessions: PageSessions, h: Helpers): void {
  const { services } = ctx;
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 12 });
  // The key is handed to the confirmation page through memory, and forgotten the first time it is shown on
  // the finished page: while the write is on its way the page opens again by itself, and must show it again.
  // operationId: the write not yet mined when the page was answered (null if it was), looked up on each visit.
  const done = new Map<
    string,
    { owner: string; name: string; token: string | null; operationId: string | null; at: number }
  >();

  const registerForm = (
    req: Request,
    res: Response,
    status: number,
    values: Record<string, string | undefined>,
    problems: FieldProblem[],
  ) =>
    h.page(
      req,
      res,
      status,
      registerFormPage(catalogFor(req), {
        values,
        problems,
        csrf: sessions.csrfField(req),
        once: values[ONCE_FIELD] ?? formKey(),
      }),
    );

  app.get(
    "/w/registrar/cooperatives/new",
    h.guarded((req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      requireRole(s.user, "registrar");
      registerForm(req, res, 200, {}, []);
    }),
  );

  app.post(
    "/w/registrar/cooperatives",
    form,
    sessions.requireCsrf,
    h.guarded(async (req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      requireRole(s.user, "registrar");
      const b = req.body as Record<string, string | undefined>;
      const values = {
        name: b.name,
        region: b.region,
        registrationNumber: b.registrationNumber,
        reserve: b.reserve,
        womenLed: b.womenLed,
        adminName: b.adminName,
        [ONCE_FIELD]: b[ONCE_FIELD],
      };
      // "10" or "10,5" % → basis points; anything else goes to the schema as is, to be refused beside the field.
      const reserveText = (b.reserve ?? "").trim().replace(",", ".");
      const reserveBps = /^[0-9]{1,3}(\.[0-9]{1,2})?$/.test(reserveText)
        ? Math.round(Number(reserveText) * 100)
        : reserveText;
      const parsed = parseForm(s.c, registerCooperativeInput, {
        name: b.name?.trim() ?? "",
        region: b.region?.trim() ?? "",
        registrationNumber: b.registrationNumber?.trim() ?? "",
        reserveBps,
        womenLed: b.womenLed === "yes",
        admin: { displayName: b.adminName?.trim() ?? "" },
      });
      if (!parsed.ok) {
        // The generic "too big" says nothing of the bounds: the reserve's own hint does.
        const problems = parsed.problems.map((p) =>
          p.field === "reserveBps" ? { ...p, message: s.c.roles.reserveHint } : p,
        );
        return registerForm(req, res, 400, values, problems);
      }
      try {
        const location = await h.once.run(s.user.id, b[ONCE_FIELD], async () => {
          const r = await services.cooperatives.register(s.user, parsed.data);
          const id = randomBytes(12).toString("base64url");
          done.set(id, {
            owner: s.user.id,
            name: parsed.data.name,
            token: r.admin.token,
            operationId: r.outcome.status === "mined" ? null : r.outcome.operationId,
            at: Date.now(),
          });
          return `/w/registrar/cooperatives/done/${id}`;
        });
        res.redirect(303, `${location}?lang=${s.c.lang}`);
      } catch (err) {
        const fields = problemsOf(err);
        if (fields === null) throw err;
        registerForm(req, res, 400, values, fields);
      }
    }),
  );

  app.get(
    "/w/registrar/cooperatives/done/:id",
    h.guarded((req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      for (const [k, v] of done) if (Date.now() - v.at > DONE_TTL_MS) done.delete(k);
      const d = done.get(String(req.params.id));
      if (d === undefined || d.owner !== s.user.id) throw new DomainError("not_found", "not_found", "no such page");
      const pending =
        d.operationId === null ? null : pendingWrite(d.operationId, s.user.id, ctx.relayer.status, req.originalUrl);
      const token = d.token;
      if (pending?.state !== "pending") d.token = null;
      h.page(req, res, 200, registeredPage(s.c, { name: d.name, token, pending }));
    }),
  );
}

/** The pages of admin.ts and certifier.ts answer a view or a redirect; Express stays here. */
function mountPages(
  app: Express,
  sessions: PageSessions,
  h: Helpers,
  status: (operationId: string) => OperationStatus | undefined,
  pages: RolePage[],
): void {
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 12 });
  for (const p of pages) {
    const handler = h.guarded(async (req, res) => {
      const s = h.signedIn(req, res);
      if (s === null) return;
      const result = await p.handle({
        user: s.user,
        c: s.c,
        body: (p.method === "post" ? req.body : {}) as Record<string, string | undefined>,
        params: req.params as Record<string, string>,
        csrf: sessions.csrfField(req),
        progress: (op, self) => (op === null ? null : pendingWrite(op, s.user.id, status, self)),
      });
      if ("redirect" in result) res.redirect(303, result.redirect);
      else h.page(req, res, result.status, result.view);
    });
    if (p.method === "get") app.get(p.path, handler);
    else app.post(p.path, form, sessions.requireCsrf, handler);
  }
}
