/**
 * The manager's side of a sale (mounted by routes.ts): offer part of a lot for sale
 * (GET /w/manager/sales/new?batch=… → POST /w/manager/sales), then on /w/manager/sales/<saleId> ship what
 * was paid for, or cancel an offer nobody paid. Only the lot's cooperative's manager may (the services ask
 * requireCoopAdmin).
 */
import { parseEther } from "viem";
import { requireRole } from "../../services/access";
import { DomainError } from "../../services/errors";
import { offerSaleInput, shipInput } from "../../services/sales";
import { formKey, ONCE_FIELD, parseForm, submitForm, writeOnce } from "../forms";
import { withLang, type Body, type View, type WebPage, type WebRequest } from "../page";
import { opQuery } from "../progress";
import type { FieldProblem } from "../views/components";
import { saleIdOf, saleView, type SalesDeps } from "./kit";
import { managerSalePage, offerFormPage, stepDonePage } from "./views";

/** "0,05" or "0.05" ETH → wei; anything else goes to the schema as is, to be refused beside the field. */
function weiOf(text: string | undefined): string {
  const priceText = (text ?? "").trim().replace(",", ".");
  if (!/^[0-9]+(\.[0-9]{1,18})?$/.test(priceText)) return priceText;
  try {
    return parseEther(priceText).toString();
  } catch {
    return priceText;
  }
}

export function managerSalePages(deps: SalesDeps): WebPage[] {
  const { services, once } = deps;

  const offerForm = (r: WebRequest, batchId: string, values: Body, problems: FieldProblem[]): View => {
    const batch = deps.getBatch(batchId);
    if (batch === null) throw new DomainError("not_found", "batch_not_found", "no such lot");
    return offerFormPage(r.c, {
      batch: { ...batch, available: String(batch.available ?? batch.quantity) },
      values,
      problems,
      csrf: r.csrf,
      once: values[ONCE_FIELD] ?? formKey(),
    });
  };

  const newOffer = (r: WebRequest) => {
    const batchId = r.query.batch ?? "";
    const batch = deps.getBatch(batchId);
    if (batch === null) throw new DomainError("not_found", "batch_not_found", "no such lot");
    // Only the lot's cooperative's manager may sell it (openSales asks requireCoopAdmin).
    services.sales.openSales(r.user, Number(batch.cooperativeId));
    return { status: 200, view: offerForm(r, batchId, {}, []) };
  };

  const offer = (r: WebRequest) => {
    const b = r.body;
    const batchId = b.batchId ?? "";
    const values = { quantity: b.quantity, price: b.price, [ONCE_FIELD]: b[ONCE_FIELD] };
    const parsed = parseForm(r.c, offerSaleInput, {
      batchId,
      quantity: (b.quantity ?? "").trim(),
      price: weiOf(b.price),
    });
    return submitForm(r, once, {
      parsed,
      form: (p) => offerForm(r, batchId, values, p),
      write: async (data) => {
        const res = await services.sales.offer(r.user, data);
        return res.saleId === null
          ? `/w/manager/sales/new?batch=${batchId}`
          : `/w/manager/sales/${res.saleId}/done/offered${opQuery(res.outcome)}`;
      },
    });
  };

  const sale = async (r: WebRequest) => {
    const s = services.sales.get(saleIdOf(r.params));
    // Only the cooperative's manager sees this page (openSales asks requireCoopAdmin).
    services.sales.openSales(r.user, s.cooperativeId);
    return { status: 200, view: managerSalePage(r.c, { s: await saleView(deps, s), csrf: r.csrf, once: formKey }) };
  };

  const step = (what: "ship" | "cancel") => (r: WebRequest) => {
    requireRole(r.user, "coop_admin");
    const saleId = saleIdOf(r.params);
    return writeOnce(r, once, async () => {
      const res =
        what === "ship"
          ? await services.sales.ship(r.user, saleId, shipInput.parse({}))
          : await services.sales.cancel(r.user, saleId);
      return `/w/manager/sales/${saleId}/done/${what}${opQuery(res.outcome)}`;
    });
  };

  const done = (r: WebRequest) => {
    const t = r.c.buying;
    const what = r.params.what;
    const title = what.startsWith("ship")
      ? t.shippedTitle
      : what.startsWith("offered")
        ? t.offeredTitle
        : t.cancelledTitle;
    const saleId = saleIdOf(r.params);
    const view = stepDonePage(r.c, {
      title,
      text: "",
      pending: r.pending,
      next: withLang(r.c, `/w/manager/sales/${saleId}`),
      nextLabel: t.saleTitle(String(saleId)),
    });
    return { status: 200, view };
  };

  return [
    { method: "get", path: "/w/manager/sales/new", handle: newOffer },
    { method: "post", path: "/w/manager/sales", handle: offer },
    { method: "get", path: "/w/manager/sales/:saleId", handle: sale },
    { method: "post", path: "/w/manager/sales/:saleId/ship", handle: step("ship") },
    { method: "post", path: "/w/manager/sales/:saleId/cancel", handle: step("cancel") },
    { method: "get", path: "/w/manager/sales/:saleId/done/:what", handle: done },
  ];
}
