/**
 * A member's money in dirhams (issue 13), mounted by roles/routes.ts:
 *
 * - GET /w/member/payouts ("My money"): per cooperative, her share of sales, what it paid her and what is
 *   still to come (services.payouts.memberMoney), and each payout it recorded as a question: "You were paid
 *   445,00 MAD by M-Wallet on 3 December. Did you receive it?", two big buttons;
 * - POST /w/member/payouts/:id/confirm → confirm → 303 → a confirmation page (on its way while not mined);
 * - GET/POST /w/member/payouts/:id/contest → an optional reason, then contest → 303 → its confirmation;
 * - GET/POST /w/member/route → to be paid in dirhams through her cooperative, yes or no → 303 → done.
 */
import { DomainError } from "../../services/errors";
import { contestPayoutInput, payoutRouteInput } from "../../services/payouts";
import type { Services } from "../../services";
import { formKey, parseForm, submitForm, writeOnce, type FormOnce } from "../forms";
import { opQuery } from "../progress";
import type { WebPage, WebRequest } from "../page";
import {
  answeredPage,
  contestPage,
  myMoneyPage,
  routeDonePage,
  routePage,
  type MemberCoop,
  type MemberPayout,
} from "./memberViews";

export interface MemberMoneyDeps {
  services: Pick<Services, "payouts">;
  once: FormOnce;
}

const PAYOUT_ID = /^0x[0-9a-fA-F]{64}$/;

export function memberMoneyPages(deps: MemberMoneyDeps): WebPage[] {
  const { services, once } = deps;

  const coops = (r: WebRequest): MemberCoop[] => {
    const money = services.payouts.memberMoney(r.user);
    return money.cooperatives.map((k) => ({
      cooperativeId: k.cooperativeId,
      name: k.name,
      throughCooperative: k.throughCooperative,
      canRoute: k.payoutAccount !== null,
      rows: k.rows.map((x) => ({
        token: { symbol: x.currency ?? "", decimals: x.decimals, currency: x.currency },
        entitled: BigInt(x.entitled),
        paid: BigInt(x.paid),
        outstanding: BigInt(x.outstanding),
      })),
      payouts: money.payouts
        .filter((p) => p.cooperativeId === k.cooperativeId)
        .reverse()
        .map((p) => ({
          payoutId: p.payoutId,
          dirhams: BigInt(p.dirhams),
          method: p.method,
          purpose: p.purpose,
          status: p.status,
          at: p.chain.blockTime,
        })),
    }));
  };

  /** Her payout named by the path, or "not found" (another's is not found either). */
  const payoutOf = (r: WebRequest): MemberPayout => {
    const id = r.params.id;
    const p = PAYOUT_ID.test(id)
      ? coops(r)
          .flatMap((k) => k.payouts)
          .find((x) => x.payoutId.toLowerCase() === id.toLowerCase())
      : undefined;
    if (p === undefined) throw new DomainError("not_found", "payout_not_found", "no such payout");
    return p;
  };

  const show = (r: WebRequest) => ({
    status: 200,
    view: myMoneyPage(r.c, { coops: coops(r), csrf: r.csrf, once: formKey }),
  });

  const confirm = (r: WebRequest) => {
    const p = payoutOf(r);
    return writeOnce(r, once, async () => {
      const res = await services.payouts.confirm(r.user, p.payoutId);
      return `/w/member/payouts/${p.payoutId}/confirmed${opQuery(res.outcome)}`;
    });
  };

  const contestForm = (r: WebRequest) => ({
    status: 200,
    view: contestPage(r.c, { payout: payoutOf(r), reason: "", csrf: r.csrf, once: formKey(), problems: [] }),
  });

  const contest = (r: WebRequest) => {
    const p = payoutOf(r);
    const reason = r.body.reason?.trim() ?? "";
    return submitForm(r, once, {
      parsed: parseForm(r.c, contestPayoutInput, reason === "" ? {} : { reason }),
      form: (problems) =>
        contestPage(r.c, { payout: p, reason, csrf: r.csrf, once: r.body.once ?? formKey(), problems }),
      write: async (data) => {
        const res = await services.payouts.contest(r.user, p.payoutId, data);
        return `/w/member/payouts/${p.payoutId}/contested${opQuery(res.outcome)}`;
      },
    });
  };

  const answered = (contested: boolean) => (r: WebRequest) => ({
    status: 200,
    view: answeredPage(r.c, { contested, payout: payoutOf(r), pending: r.pending }),
  });

  const routeForm = (r: WebRequest) => {
    const mine = coops(r)[0];
    const checked = mine === undefined ? undefined : mine.throughCooperative ? "yes" : "no";
    return {
      status: 200,
      view: routePage(r.c, { checked, canRoute: mine?.canRoute ?? false, csrf: r.csrf, once: formKey(), problems: [] }),
    };
  };

  const route = (r: WebRequest) => {
    const answer = r.body.throughCooperative;
    const mine = coops(r)[0];
    const parsed = parseForm(r.c, payoutRouteInput, {
      throughCooperative: answer === "yes" ? true : answer === "no" ? false : undefined,
    });
    return submitForm(r, once, {
      parsed,
      problems: parsed.ok ? [] : [{ field: "throughCooperative", message: r.c.payouts.routeChoose }],
      form: (problems) =>
        routePage(r.c, {
          checked: answer,
          canRoute: mine?.canRoute ?? false,
          csrf: r.csrf,
          once: r.body.once ?? formKey(),
          // A refusal of the service (no payout account yet) is said beside the question too.
          problems: problems.map((p) => ({ ...p, field: "throughCooperative" })),
        }),
      refused: (err) =>
        err instanceof DomainError && err.code === "no_payout_account"
          ? [{ field: "throughCooperative", message: r.c.payouts.routeNoAccount }]
          : null,
      write: async (data) => {
        const res = await services.payouts.choosePaidThroughCooperative(r.user, data);
        return `/w/member/route/done?yes=${data.throughCooperative ? 1 : 0}${opQuery(res.outcome, "&")}`;
      },
    });
  };

  return [
    { method: "get", path: "/w/member/payouts", handle: show },
    { method: "post", path: "/w/member/payouts/:id/confirm", handle: confirm },
    { method: "get", path: "/w/member/payouts/:id/confirmed", handle: answered(false) },
    { method: "get", path: "/w/member/payouts/:id/contest", handle: contestForm },
    { method: "post", path: "/w/member/payouts/:id/contest", handle: contest },
    { method: "get", path: "/w/member/payouts/:id/contested", handle: answered(true) },
    { method: "get", path: "/w/member/route", handle: routeForm },
    { method: "post", path: "/w/member/route", handle: route },
    {
      method: "get",
      path: "/w/member/route/done",
      handle: (r) => ({ status: 200, view: routeDonePage(r.c, { yes: r.query.yes === "1", pending: r.pending }) }),
    },
  ];
}
