/**
 * The cooperative manager's pages (role coop_admin), under /w/manager:
 *
 * - GET /w/manager: members, lots and what is left of each, open sales, members' shares not yet paid;
 * - add a member (members.ts); record a lot and its steps (batches.ts); split and merge lots
 *   (lineage.ts); pay members and release sales (payout.ts); a member's card as a PDF (card.ts);
 * - /w/manager/labels.pdf: the cooperative's label sheet, for the session (the API route wants a token).
 *
 * Those modules answer a page, a 303 or a PDF; Express stays here. Every write: CSRF, the service's own
 * zod schema, the once-key (a double submit writes once), then a 303 to a confirmation page
 * (forms.ts's submitForm). Authorization is the services'; the dashboard asks them too.
 */
import express, { type Express, type Request, type Response } from "express";
import { labelSheetInput } from "../../services/labels";
import { DomainError } from "../../services/errors";
import type { PageSessions } from "../../sessions/http";
import type { WebDeps } from "../deps";
import { mountPages, pageKit, sendAnswer, signedInRequest } from "../http";
import { batchPages } from "./batches";
import { cardPages } from "./card";
import type { ManagerPage, ManagerRequest } from "./kit";
import { lineagePages } from "./lineage";
import { memberPages } from "./members";
import { payoutPages } from "./payout";
import { managerMoneyPages } from "../money/manager";
import { dashboardPage } from "./views";

export function managerRoutes(app: Express, web: WebDeps, sessions: PageSessions): void {
  const { services, once, lookups } = web;
  const kit = pageKit({ back: (c) => c.manager.backToDashboard, passInvalid: true });
  const cooperativeName = (id: number) => web.getCooperative(id)?.name ?? "";

  /** The signed-in manager and his cooperative; otherwise /signin or a 403 page has been sent. */
  const signedIn = signedInRequest(kit, sessions, web.status);
  const manager = (req: Request, res: Response): ManagerRequest | null => {
    const r = signedIn(req, res);
    if (r === null) return null;
    const { user } = r;
    const coopId =
      user.role === "coop_admin" && user.address !== null
        ? (lookups.cooperativeOfAdmin(user.address) ?? user.cooperativeId)
        : null;
    if (coopId === null) {
      kit.refusal(req, res, new DomainError("forbidden", "forbidden", "not a cooperative manager"));
      return null;
    }
    return { ...r, coopId };
  };

  const dashboard: ManagerPage = {
    method: "get",
    path: "/w/manager",
    handle: (r) => {
      const batches = web.listBatches({ cooperativeId: r.coopId, limit: 100 });
      const view = dashboardPage(r.c, {
        cooperativeName: cooperativeName(r.coopId),
        members: services.cooperatives.listMembers(r.user, r.coopId).filter((x) => x.active),
        batches: batches.items,
        batchTotal: batches.total,
        openSales: services.sales.openSales(r.user, r.coopId),
        unpaid: services.sales.unpaidShares(r.user, r.coopId).map((u) => ({
          displayName: u.displayName,
          productCode: u.productCode,
          lotCode: u.lotCode,
          batchId: u.batchId,
          gtin: lookups.gtinOf(u.batchId),
        })),
      });
      return { status: 200, view };
    },
  };

  // A lot's form holds a row per member: up to 1000 contributors, as the service accepts.
  const largeForm = express.urlencoded({ extended: false, limit: "100kb", parameterLimit: 2_100 });
  mountPages(
    app,
    [
      dashboard,
      ...memberPages({ services, once, cooperativeName }),
      ...batchPages({ services, once, getBatch: web.getBatch, gtinOf: lookups.gtinOf }),
      ...managerMoneyPages({ services, once, tokenView: web.tokenView }),
    ],
    { kit, form: largeForm, sessions, request: manager },
  );
  // ---- split, merge, payouts, release, card PDF ----
  const smallForm = express.urlencoded({ extended: false, limit: "8kb", parameterLimit: 200 });
  mountPages(
    app,
    [
      ...lineagePages({ services, once, gtinOf: lookups.gtinOf }),
      ...payoutPages({
        services,
        once,
        gtinOf: lookups.gtinOf,
        tokenView: web.tokenView,
        chainNow: web.chainNow,
        status: web.status,
      }),
      ...cardPages({ services, cooperativeName }),
    ],
    { kit, form: smallForm, sessions, request: manager },
  );

  // ---- labels: all the cooperative's lots, or those ticked on the dashboard (`?batch=…`, repeated) ----
  app.get(
    "/w/manager/labels.pdf",
    kit.guarded(async (req, res) => {
      const m = manager(req, res);
      if (m === null) return;
      const q = req.query;
      const input = labelSheetInput.safeParse({
        batch: q.batch,
        stock: q.stock,
        pack: q.pack,
        packUnit: q.packUnit,
        count: q.count,
        languages: q.languages,
      });
      if (!input.success) {
        const field = String(input.error.issues[0]?.path[0] ?? "batch");
        if (field === "batch") throw new DomainError("not_found", "batch_not_found", "no such lot");
        throw new DomainError("invalid", "invalid_field", `${field}: ${input.error.issues[0]?.message ?? "invalid"}`);
      }
      const sheet = await services.labels.labelSheet(m.coopId, input.data);
      sendAnswer(req, res, kit, { pdf: sheet.pdf, filename: `labels-${m.coopId}.pdf` });
    }),
  );
}
