/**
 * The cooperative manager's pages (role coop_admin), under /w/manager:
 *
 * - GET /w/manager: members, lots and what is left of each, open sales, members' shares not yet paid;
 * - add a member (name, reference, PIN typed twice) → her printable card;
 * - record a lot with who delivered what → its public page;
 * - record a step on a lot;
 * - /w/manager/labels.pdf: the cooperative's label sheet, for the session (the API route wants a token).
 *
 * Every write: CSRF, the service's own zod schema, the once-key (a double submit writes once), then a
 * 303 to a confirmation page. Authorization is the services'; the dashboard asks them too.
 */
import { randomBytes } from "node:crypto";
import express, { type Express, type Request, type Response } from "express";
import type { GatewayContext } from "../../api/context";
import { memberCardSvg } from "../../custody/cards";
import type { User } from "../../custody/users";
import { unitName, type Catalog } from "../../pages/i18n";
import { formatterFor } from "../../pages/format";
import { addMemberInput } from "../../services/cooperatives";
import { registerBatchInput, recordEventInput } from "../../services/batches";
import { isObviousPin } from "../../services/cards";
import { labelSheetInput } from "../../services/labels";
import { DomainError } from "../../services/errors";
import type { PageSessions } from "../../sessions/http";
import { createFormOnce, formKey, ONCE_FIELD, parseForm, problemsOf } from "../forms";
import { catalogFor, pageKit } from "../http";
import { opQuery, pendingWrite } from "../progress";
import { createWebLookups } from "../lookup";
import type { FieldProblem } from "../views/components";
import {
  batchDonePage,
  batchFormPage,
  dashboardPage,
  memberDonePage,
  memberFormPage,
  stepDonePage,
  stepFormPage,
} from "./views";
import { cardPages } from "./card";
import type { ManagerPage } from "./kit";
import { lineagePages } from "./lineage";
import { payoutPages } from "./payout";
import { createTokenLookup } from "../../pages/tokens";

/** A printed card is shown once after its write; kept in memory a short while for the confirmation page. */
const CARD_TTL_MS = 30 * 60_000;

type Body = Record<string, string | undefined>;

function bodyOf(req: Request): Body {
  const b = req.body as Record<string, unknown> | undefined;
  const out: Body = {};
  for (const [k, v] of Object.entries(b ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

const blankToUndefined = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : s.trim());

/** "ROSE-20261204" from the product code and today's date: short, GS1 AI (10) characters only. */
export function suggestLot(productCode: string, now = new Date()): string {
  const prefix =
    productCode
      .replace(/[^A-Za-z0-9]+/g, "-")
      .split("-")[0]
      .toUpperCase()
      .slice(0, 6) || "LOT";
  return `${prefix}-${now.toISOString().slice(0, 10).replace(/-/g, "")}`;
}

export function managerRoutes(app: Express, ctx: GatewayContext, sessions: PageSessions): void {
  const { services, queries } = ctx;
  const lookups = createWebLookups(ctx.db);
  const once = createFormOnce(ctx.db);
  // A lot's form holds a row per member: up to 1000 contributors, as the service accepts.
  const form = express.urlencoded({ extended: false, limit: "100kb", parameterLimit: 2_100 });
  const cards = new Map<
    string,
    // operationId: the write not yet mined when the page was answered (null if it was), looked up on each visit.
    {
      owner: string;
      name: string;
      memberUserId: string;
      svg: string | null;
      cardUrl: string | null;
      operationId: string | null;
      at: number;
    }
  >();

  const { page, refusal, guarded } = pageKit({ back: (c) => c.manager.backToDashboard, passInvalid: true });

  /** The signed-in manager and his cooperative; otherwise /signin or a 403 page has been sent. */
  const manager = (req: Request, res: Response): { user: User; coopId: number; c: Catalog } | null => {
    const c = catalogFor(req);
    const user = req.user;
    if (user === undefined) {
      res.set("Cache-Control", "no-store").redirect(303, `/signin?lang=${c.lang}`);
      return null;
    }
    const coopId =
      user.role === "coop_admin" && user.address !== null
        ? (lookups.cooperativeOfAdmin(user.address) ?? user.cooperativeId)
        : null;
    if (coopId === null) {
      refusal(req, res, new DomainError("forbidden", "forbidden", "not a cooperative manager"));
      return null;
    }
    return { user, coopId, c };
  };

  app.get(
    "/w/manager",
    guarded((req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const coop = queries.getCooperative(m.coopId);
      const batches = queries.listBatches({ cooperativeId: m.coopId, limit: 100 });
      const view = dashboardPage(m.c, {
        cooperativeName: coop?.name ?? "",
        members: services.cooperatives.listMembers(m.user, m.coopId).filter((x) => x.active),
        batches: batches.items,
        batchTotal: batches.total,
        openSales: services.sales.openSales(m.user, m.coopId),
        unpaid: services.sales.unpaidShares(m.user, m.coopId).map((u) => ({
          displayName: u.displayName,
          productCode: u.productCode,
          lotCode: u.lotCode,
          batchId: u.batchId,
          gtin: lookups.gtinOf(u.batchId),
        })),
      });
      page(req, res, 200, view);
    }),
  );

  // ---- add a member ----
  const memberForm = (req: Request, res: Response, status: number, values: Body, problems: FieldProblem[]) => {
    const c = catalogFor(req);
    page(
      req,
      res,
      status,
      memberFormPage(c, { values, problems, csrf: sessions.csrfField(req), once: values[ONCE_FIELD] ?? formKey() }),
    );
  };

  app.get(
    "/w/manager/members/new",
    guarded((req, res) => {
      if (manager(req, res) === null) return;
      memberForm(req, res, 200, {}, []);
    }),
  );

  app.post(
    "/w/manager/members",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const b = bodyOf(req);
      const values = { displayName: b.displayName, reference: b.reference, [ONCE_FIELD]: b[ONCE_FIELD] };
      const parsed = parseForm(m.c, addMemberInput, {
        displayName: b.displayName?.trim() ?? "",
        reference: b.reference?.trim() ?? "",
        pin: b.pin ?? "",
      });
      const problems = parsed.ok ? [] : parsed.problems;
      // The schema refuses an easy PIN as "invalid": say why, in words.
      const pin = b.pin ?? "";
      if (/^[0-9]{4,6}$/.test(pin) && isObviousPin(pin)) {
        const i = problems.findIndex((p) => p.field === "pin");
        if (i >= 0) problems[i] = { field: "pin", message: m.c.manager.pinEasy };
      }
      if (!problems.some((p) => p.field === "pin") && pin !== (b.pinAgain ?? ""))
        problems.push({ field: "pinAgain", message: m.c.manager.pinMismatch });
      if (!parsed.ok || problems.length > 0) return memberForm(req, res, 400, values, problems);
      try {
        const location = await once.run(m.user.id, b[ONCE_FIELD], async () => {
          const r = await services.cooperatives.addMember(m.user, m.coopId, parsed.data);
          const key = randomBytes(12).toString("base64url");
          cards.set(key, {
            owner: m.user.id,
            name: parsed.data.displayName,
            memberUserId: r.member.userId,
            svg: r.member.card,
            cardUrl: r.member.cardUrl,
            operationId: r.outcome.status === "mined" ? null : r.outcome.operationId,
            at: Date.now(),
          });
          return `/w/manager/members/done/${key}`;
        });
        res.redirect(303, `${location}?lang=${m.c.lang}`);
      } catch (err) {
        const fields = problemsOf(err);
        if (fields === null) throw err;
        memberForm(req, res, 400, values, fields);
      }
    }),
  );

  app.get(
    "/w/manager/members/done/:key",
    guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      for (const [k, v] of cards) if (Date.now() - v.at > CARD_TTL_MS) cards.delete(k);
      const card = cards.get(String(req.params.key));
      if (card === undefined || card.owner !== m.user.id)
        throw new DomainError("not_found", "card_not_found", "no such confirmation");
      // The card is drawn again in the reader's language (the service draws it in English for the API).
      const cooperativeName = queries.getCooperative(m.coopId)?.name ?? "";
      const svg =
        card.cardUrl === null
          ? card.svg
          : await memberCardSvg({
              displayName: card.name,
              cooperativeName,
              signInUrl: card.cardUrl,
              instruction: m.c.manager2.cardScan,
            });
      page(
        req,
        res,
        200,
        memberDonePage(m.c, {
          displayName: card.name,
          cardSvg: svg,
          pending: pendingWrite(card.operationId, m.user.id, ctx.relayer.status, req.originalUrl),
          memberUserId: card.svg === null ? null : card.memberUserId,
        }),
      );
    }),
  );

  // ---- record a lot ----
  const batchForm = (
    req: Request,
    res: Response,
    m: { user: User; coopId: number; c: Catalog },
    status: number,
    values: Body,
    problems: FieldProblem[],
  ) => {
    const members = services.cooperatives
      .listMembers(m.user, m.coopId)
      .filter((x) => x.active && x.userId !== null)
      .map((x) => ({ userId: x.userId!, displayName: x.displayName }));
    const products = Object.keys(m.c.products);
    const productCode = values.productCode ?? products[0];
    const view = batchFormPage(m.c, {
      products,
      members,
      values: {
        productCode,
        lotCode: values.lotCode ?? suggestLot(productCode),
        unit: values.unit ?? "kg",
        productionDate: values.productionDate ?? new Date().toISOString().slice(0, 10),
        ...values,
      },
      problems,
      csrf: sessions.csrfField(req),
      once: values[ONCE_FIELD] ?? formKey(),
    });
    page(req, res, status, view);
  };

  app.get(
    "/w/manager/batches/new",
    guarded((req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      batchForm(req, res, m, 200, {}, []);
    }),
  );

  app.post(
    "/w/manager/batches",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const b = bodyOf(req);
      const f = m.c.manager;
      const problems: FieldProblem[] = [];
      const contributors: { memberId: string; weight: string }[] = [];
      let total = 0n;
      for (let i = 0; b[`member-${i}`] !== undefined; i++) {
        const w = blankToUndefined(b[`weight-${i}`]);
        if (w === undefined) continue;
        if (!/^[0-9]{1,18}$/.test(w) || BigInt(w) === 0n) {
          // "7,5" kg: the chain counts whole units, so say how to write it rather than "not valid".
          const decimal = /^[0-9]+[.,][0-9]+$/.test(w);
          problems.push({ field: `weight-${i}`, message: decimal ? f.wholeUnits : m.c.form.invalid });
          continue;
        }
        total += BigInt(w);
        contributors.push({ memberId: b[`member-${i}`]!, weight: w });
      }
      if (contributors.length === 0 && problems.length === 0)
        problems.push({ field: "contributors", message: f.noContributor });
      // An empty quantity is the total delivered (what a manager expects); a different one is said beside it.
      const quantityText = blankToUndefined(b.quantity) ?? (total > 0n ? String(total) : undefined);
      const input = {
        cooperativeId: m.coopId,
        productCode: b.productCode ?? "",
        lotCode: b.lotCode?.trim() ?? "",
        quantity: quantityText,
        unit: b.unit ?? "",
        origin: b.origin?.trim() ?? "",
        productionDate: b.productionDate ?? "",
        gtin: blankToUndefined(b.gtin),
        contributors,
      };
      const parsed = parseForm(m.c, registerBatchInput, input);
      if (!parsed.ok) problems.push(...parsed.problems.filter((p) => !p.field.startsWith("contributors")));
      if (
        quantityText !== undefined &&
        /^[0-9]+$/.test(quantityText) &&
        total > 0n &&
        BigInt(quantityText) !== total &&
        !problems.some((p) => p.field === "quantity")
      )
        problems.push({
          field: "quantity",
          message: f.quantityMismatch(`${formatterFor(m.c).integer(total)} ${unitName(m.c, b.unit ?? "")}`),
        });
      if (!parsed.ok || problems.length > 0) return batchForm(req, res, m, 400, b, problems);
      try {
        const location = await once.run(m.user.id, b[ONCE_FIELD], async () => {
          const r = await services.batches.register(m.user, parsed.data);
          return `/w/manager/batches/${r.batchId}/done${opQuery(r.outcome)}`;
        });
        res.redirect(303, `${location}${location.includes("?") ? "&" : "?"}lang=${m.c.lang}`);
      } catch (err) {
        const fields = problemsOf(err);
        if (fields === null) throw err;
        batchForm(req, res, m, 400, b, fields);
      }
    }),
  );

  /** A lot of the manager's cooperative (not found for any other). */
  const lotOf = (m: { coopId: number }, batchId: string) => {
    const batch = /^0x[0-9a-fA-F]{64}$/.test(batchId) ? queries.getBatch(batchId) : null;
    if (batch === null || Number(batch.cooperativeId) !== m.coopId)
      throw new DomainError("not_found", "batch_not_found", `no batch ${batchId}`);
    return {
      batchId: batch.batchId,
      productCode: batch.productCode,
      lotCode: batch.lotCode,
      gtin: lookups.gtinOf(batch.batchId),
    };
  };

  app.get(
    "/w/manager/batches/:batchId/done",
    guarded((req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      // Not indexed yet (the write is on its way): the page says so and offers to look again.
      const id = String(req.params.batchId);
      const batch = queries.getBatch(id);
      const pending = pendingWrite(req.query.op, m.user.id, ctx.relayer.status, req.originalUrl);
      if (batch === null && pending !== null) {
        const unknown = { batchId: id, productCode: "", lotCode: "", gtin: "" };
        return page(req, res, 202, batchDonePage(m.c, unknown, pending));
      }
      page(req, res, 200, batchDonePage(m.c, lotOf(m, id), pending));
    }),
  );

  // ---- record a step ----
  const stepForm = (
    req: Request,
    res: Response,
    m: { coopId: number; c: Catalog },
    status: number,
    values: Body,
    problems: FieldProblem[],
  ) => {
    const batch = lotOf(m, String(req.params.batchId));
    page(
      req,
      res,
      status,
      stepFormPage(m.c, {
        batch,
        values: { eventTime: new Date().toISOString().slice(0, 16), ...values },
        problems,
        csrf: sessions.csrfField(req),
        once: values[ONCE_FIELD] ?? formKey(),
      }),
    );
  };

  app.get(
    "/w/manager/batches/:batchId/step",
    guarded((req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      stepForm(req, res, m, 200, {}, []);
    }),
  );

  app.post(
    "/w/manager/batches/:batchId/step",
    form,
    sessions.requireCsrf,
    guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const b = bodyOf(req);
      const batch = lotOf(m, String(req.params.batchId));
      // datetime-local has no offset: the manager's time is read as UTC (Morocco is UTC+1 at most, the day holds).
      const time = b.eventTime ?? "";
      const eventTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(time) ? `${time}:00Z` : time;
      const parsed = parseForm(m.c, recordEventInput, {
        bizStep: b.bizStep ?? "",
        location: b.location?.trim() ?? "",
        eventTime,
      });
      if (!parsed.ok) return stepForm(req, res, m, 400, b, parsed.problems);
      const location = await once.run(m.user.id, b[ONCE_FIELD], async () => {
        const r = await services.batches.recordEvent(m.user, batch.batchId, parsed.data);
        const op = opQuery(r.outcome, "&");
        return `/w/manager/batches/${batch.batchId}/step/done?step=${encodeURIComponent(parsed.data.bizStep)}${op}`;
      });
      res.redirect(303, `${location}&lang=${m.c.lang}`);
    }),
  );

  app.get(
    "/w/manager/batches/:batchId/step/done",
    guarded((req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const step = typeof req.query.step === "string" ? req.query.step.slice(0, 64) : "other";
      const pending = pendingWrite(req.query.op, m.user.id, ctx.relayer.status, req.originalUrl);
      page(req, res, 200, stepDonePage(m.c, lotOf(m, String(req.params.batchId)), step, pending));
    }),
  );

  // ---- split, merge, payouts, release, card PDF (their own modules; Express stays here) ----
  const pages: ManagerPage[] = [
    ...lineagePages({ services, once, gtinOf: lookups.gtinOf }),
    ...payoutPages({
      services,
      once,
      gtinOf: lookups.gtinOf,
      tokens: createTokenLookup(ctx.client),
      chainNow: async () => (await ctx.client.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000),
      status: ctx.relayer.status,
    }),
    ...cardPages({ services, cooperativeName: (id) => queries.getCooperative(id)?.name ?? "" }),
  ];
  const smallForm = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 200 });
  for (const p of pages) {
    const handler = guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const query: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.query)) if (typeof v === "string") query[k] = v;
      const answer = await p.handle({
        ...m,
        body: p.method === "post" ? bodyOf(req) : {},
        params: req.params as Record<string, string>,
        query,
        csrf: sessions.csrfField(req),
        pending: pendingWrite(req.query.op, m.user.id, ctx.relayer.status, req.originalUrl),
      });
      if ("redirect" in answer) res.redirect(303, answer.redirect);
      else if ("pdf" in answer)
        res
          .status(200)
          .set({ "Cache-Control": "no-store", "Content-Disposition": `inline; filename="${answer.filename}"` })
          .type("application/pdf")
          .send(answer.pdf);
      else page(req, res, answer.status, answer.view);
    });
    if (p.method === "get") app.get(p.path, handler);
    else app.post(p.path, smallForm, sessions.requireCsrf, handler);
  }

  // ---- labels ----
  app.get(
    "/w/manager/labels.pdf",
    guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      // All the cooperative's lots, or those ticked on the dashboard (`?batch=…`, repeated).
      const input = labelSheetInput.safeParse({ batch: req.query.batch });
      if (!input.success) throw new DomainError("not_found", "batch_not_found", "no such lot");
      const sheet = await services.labels.labelSheet(m.coopId, input.data);
      res
        .status(200)
        .set({ "Cache-Control": "no-store", "Content-Disposition": `inline; filename="labels-${m.coopId}.pdf"` })
        .type("application/pdf")
        .send(sheet.pdf);
    }),
  );
}
