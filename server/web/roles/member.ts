/**
 * The member's pages (role member, signed in with her card and PIN), under /w/member (mounted by routes.ts):
 *
 * - GET /w/member/money: per sale, her share, already paid, still owed; a "get paid" button per lot and
 *   currency where something is owed → POST /w/member/claim → 303 → a confirmation page;
 * - GET /w/member/deliveries: the lots she delivered to and her part of each.
 *
 * Reads and the claim are the services' (sales.memberShares, sales.claim, batches.memberDeliveries),
 * so the page and the API agree; the claim form is parsed with the API's own `claimInput`.
 */
import { DomainError } from "../../services/errors";
import { claimInput } from "../../services/sales";
import type { WebDeps } from "../deps";
import { formKey, parseForm, writeOnce } from "../forms";
import { doneStore, withLang, type WebPage, type WebRequest } from "../page";
import { progressOf } from "../progress";
import { deliveriesPage, moneyPage, paidPage, type MoneyGroup, type TokenView } from "./views";

/** A claim's confirmation, kept a short while in memory for its owner only. */
interface Claimed {
  amount: bigint | null;
  token: TokenView;
  /** Sent but not yet mined when answered: looked up again on each visit (the progress script comes back). */
  pending: boolean;
  operationId: string;
  batchId: string;
}

export function memberPages(
  deps: Pick<WebDeps, "services" | "once" | "lookups" | "getBatch" | "tokenView" | "status">,
): WebPage[] {
  const { services, once } = deps;
  const claimed = doneStore<Claimed>();

  const money = async (r: WebRequest) => {
    const groups = new Map<string, MoneyGroup>();
    for (const x of services.sales.memberShares(r.user)) {
      const key = `${x.batchId}/${x.token}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = {
          batchId: x.batchId,
          productCode: x.productCode,
          lotCode: x.lotCode,
          gtin: deps.lookups.gtinOf(x.batchId),
          token: await deps.tokenView(x.token),
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
    return { status: 200, view: moneyPage(r.c, { groups: [...groups.values()], csrf: r.csrf, once: formKey }) };
  };

  const claim = (r: WebRequest) => {
    const parsed = parseForm(r.c, claimInput, { batchId: r.body.batchId, token: r.body.token });
    // The form has only hidden fields: a bad one is a hand-made request, refused as such.
    if (!parsed.ok) throw new DomainError("not_found", "batch_not_found", "no such lot or currency");
    return writeOnce(r, once, async () => {
      const res = await services.sales.claim(r.user, parsed.data);
      const key = claimed.put(r.user.id, {
        amount: res.amount === null ? null : BigInt(res.amount),
        token: await deps.tokenView(parsed.data.token),
        pending: res.outcome.status !== "mined",
        operationId: res.outcome.operationId,
        batchId: parsed.data.batchId,
      });
      return `/w/member/paid/${key}`;
    });
  };

  const paid = (r: WebRequest) => {
    const d = claimed.own(r.user.id, r.params.id);
    const batch = deps.getBatch(d.batchId);
    const view = paidPage(r.c, {
      amount: d.amount,
      token: d.token,
      progress: d.pending ? progressOf(deps.status(d.operationId)) : "done",
      operationId: d.operationId,
      self: withLang(r.c, `/w/member/paid/${r.params.id}`),
      lot: { productCode: batch?.productCode ?? "", lotCode: batch?.lotCode ?? "" },
    });
    return { status: 200, view };
  };

  const deliveries = (r: WebRequest) => {
    const lots = services.batches.memberDeliveries(r.user).map((b) => ({
      ...b,
      partBps: BigInt(b.totalWeight) === 0n ? 0 : Number((BigInt(b.weight) * 10_000n) / BigInt(b.totalWeight)),
    }));
    return { status: 200, view: deliveriesPage(r.c, lots) };
  };

  return [
    { method: "get", path: "/w/member/money", handle: money },
    { method: "post", path: "/w/member/claim", handle: claim },
    { method: "get", path: "/w/member/paid/:id", handle: paid },
    { method: "get", path: "/w/member/deliveries", handle: deliveries },
  ];
}
