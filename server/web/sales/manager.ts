/**
 * The manager's side of a sale (mounted by routes.ts): offer part of a lot for sale
 * (GET /w/manager/sales/new?batch=… → POST /w/manager/sales), then on /w/manager/sales/<saleId> ship what
 * was paid for, or cancel an offer nobody paid. Only the lot's cooperative's manager may (the services ask
 * requireCoopAdmin).
 */
import { requireRole } from "../../services/access";
import { DomainError } from "../../services/errors";
import { offerSaleInput, shipInput } from "../../services/sales";
import { quantity as quantityText } from "../../pages/format";
import { formKey, ONCE_FIELD, parseForm, submitForm, writeOnce } from "../forms";
import { revertOf } from "../manager/kit";
import { withLang, type Body, type View, type WebPage, type WebRequest } from "../page";
import { opQuery } from "../progress";
import type { FieldProblem } from "../views/components";
import { saleIdOf, saleView, type SalesDeps } from "./kit";
import { parsePrice } from "./price";
import { managerSalePage, offerFormPage, stepDonePage, type CurrencyChoice } from "./views";

/** The problem of a price as typed, in the reader's language (null: it reads as one amount). */
function priceProblem(r: WebRequest, text: string | undefined, decimals: number): string | bigint {
  const p = parsePrice(text, decimals);
  if (p.ok) return p.raw;
  const t = r.c.selling;
  return p.problem === "ambiguous"
    ? t.priceAmbiguous
    : p.problem === "decimals"
      ? t.priceDecimals(p.decimals)
      : t.priceBad;
}

export function managerSalePages(deps: SalesDeps): WebPage[] {
  const { services, once } = deps;

  /**
   * The currencies a sale may be priced in: those the escrow recorded with a currency, dirhams first
   * (members are paid in dirhams), then by code; ETH only when there is none.
   */
  const currencies = (): CurrencyChoice[] => {
    const tokens = services
      .settlementTokens()
      .map((t) => ({ param: t.token, code: t.currency, decimals: t.decimals }))
      .sort((a, b) => Number(b.code === "MAD") - Number(a.code === "MAD") || a.code.localeCompare(b.code));
    return tokens.length > 0 ? tokens : [{ param: "ETH", code: "ETH", decimals: 18 }];
  };

  const lotOf = (batchId: string) => {
    const batch = deps.getBatch(batchId);
    if (batch === null) throw new DomainError("not_found", "batch_not_found", "no such lot");
    return { ...batch, available: String(batch.available ?? batch.quantity) };
  };

  const offerForm = (r: WebRequest, batchId: string, values: Body, problems: FieldProblem[]): View =>
    offerFormPage(r.c, {
      batch: lotOf(batchId),
      currencies: currencies(),
      values,
      problems,
      csrf: r.csrf,
      once: values[ONCE_FIELD] ?? formKey(),
    });

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
    const lot = lotOf(batchId);
    const t = r.c.selling;
    const values = { quantity: b.quantity, price: b.price, token: b.token, [ONCE_FIELD]: b[ONCE_FIELD] };
    const choices = currencies();
    const currency = choices.find((x) => x.param.toLowerCase() === (b.token ?? choices[0].param).toLowerCase());
    const price = currency === undefined ? undefined : priceProblem(r, b.price, currency.decimals);
    const parsed = parseForm(r.c, offerSaleInput, {
      batchId,
      quantity: (b.quantity ?? "").trim(),
      token: currency?.param ?? "",
      price: typeof price === "bigint" ? price.toString() : "",
    });
    const problems = parsed.ok ? [] : parsed.problems.filter((p) => p.field !== "price" && p.field !== "token");
    if (currency === undefined) problems.push({ field: "token", message: t.currencyBad });
    else if (typeof price === "string") problems.push({ field: "price", message: price });
    // More than the lot holds: said before the contract is asked (it would refuse too).
    const left = (available: string) => r.c.manager2.takeTooMuch(quantityText(r.c, available, lot.unit));
    if (parsed.ok && parsed.data.quantity > BigInt(lot.available))
      problems.push({ field: "quantity", message: left(lot.available) });
    return submitForm(r, once, {
      parsed,
      problems,
      form: (p) => offerForm(r, batchId, values, p),
      write: async (data) => {
        const res = await services.sales.offer(r.user, data);
        return res.saleId === null
          ? `/w/manager/sales/new?batch=${batchId}`
          : `/w/manager/sales/${res.saleId}/done/offered${opQuery(res.outcome)}`;
      },
      // The contract's refusals (another page sold from the lot meanwhile…), beside their field.
      refused: (err) => {
        const refused = revertOf(err);
        if (refused === undefined) return null;
        if (refused.name === "BatchRegistryQuantityExceeded")
          return [{ field: "quantity", message: left(String(refused.args[1])) }];
        if (refused.name === "SaleEscrowTokenNotAllowed") return [{ field: "token", message: t.currencyBad }];
        if (refused.name === "SaleEscrowZeroPrice") return [{ field: "price", message: t.priceBad }];
        return [{ field: "quantity", message: t.refused }];
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

  const done = async (r: WebRequest) => {
    const t = r.c.buying;
    const what = r.params.what;
    const title = what.startsWith("ship")
      ? t.shippedTitle
      : what.startsWith("offered")
        ? t.offeredTitle
        : t.cancelledTitle;
    const saleId = saleIdOf(r.params);
    // What was offered or shipped, once the index has it (a write on its way: the title says so).
    let sale: Awaited<ReturnType<typeof saleView>> | undefined;
    try {
      sale = await saleView(deps, services.sales.get(saleId));
    } catch (err) {
      if (!(err instanceof DomainError && err.kind === "not_found")) throw err;
    }
    const view = stepDonePage(r.c, {
      title,
      text: "",
      sale,
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
