/**
 * The buyer's pages (mounted by routes.ts):
 *
 * - /w/buyer/funds: test money from the faucet (the embedded demo chain only), a refusal said kindly;
 * - POST /market/<saleId>/buy → services.sales.fund → a confirmation;
 * - /w/buyer/orders: the buyer's orders (sale number and date on each), each state in words, confirm
 *   delivery (a page that asks first: the money then goes to the cooperative for good) / report a
 *   problem, and money returned after a refund, to withdraw.
 */
import { requireRole } from "../../services/access";
import { DomainError } from "../../services/errors";
import { buyerStepInput, withdrawInput } from "../../services/sales";
import { formKey, parseForm, writeOnce } from "../forms";
import { withLang, type WebPage, type WebRequest } from "../page";
import { opQuery } from "../progress";
import { saleIdOf, saleView, type SalesDeps } from "./kit";
import { confirmDeliveryPage, fundsPage, ordersPage, stepDonePage } from "./views";

export function buyerPages(deps: SalesDeps): WebPage[] {
  const { services, once } = deps;

  const funds = (r: WebRequest) => {
    requireRole(r.user, "buyer");
    const shown = r.query.outcome;
    const outcome = shown === "done" || shown === "refused" ? shown : undefined;
    const view = fundsPage(r.c, { available: services.users.hasFaucet, outcome, csrf: r.csrf, once: formKey() });
    return { status: 200, view };
  };

  const useFaucet = async (r: WebRequest) => {
    requireRole(r.user, "buyer");
    let outcome: "done" | "refused" = "done";
    try {
      await writeOnce(r, once, async () => {
        await services.users.useFaucet(r.user);
        return "done";
      });
    } catch (err) {
      // Already paid today: not an error of hers, said in plain words on the same page.
      if (err instanceof DomainError && err.code === "faucet_used") outcome = "refused";
      else throw err;
    }
    return { redirect: withLang(r.c, `/w/buyer/funds?outcome=${outcome}`) };
  };

  const buy = (r: WebRequest) => {
    const saleId = saleIdOf(r.params);
    return writeOnce(r, once, async () => {
      const res = await services.sales.fund(r.user, saleId);
      return `/w/buyer/orders/${saleId}/done/bought${opQuery(res.outcome)}`;
    });
  };

  const orders = async (r: WebRequest) => {
    const list = await Promise.all(services.sales.orders(r.user).map((s) => saleView(deps, s)));
    const refunds = await Promise.all(
      services.sales
        .refunds(r.user)
        .map(async (x) => ({ token: x.token, amount: BigInt(x.amount), view: await deps.tokenView(x.token) })),
    );
    return { status: 200, view: ordersPage(r.c, { orders: list, refunds, csrf: r.csrf, once: formKey }) };
  };

  // Money returned after a refund: back to the buyer's own account (the escrow's pull payment).
  const withdraw = (r: WebRequest) => {
    const parsed = parseForm(r.c, withdrawInput, { token: r.body.token });
    // The form has only hidden fields: a bad one is a hand-made request, refused as such.
    if (!parsed.ok) throw new DomainError("not_found", "token_not_found", "no such currency");
    return writeOnce(r, once, async () => {
      const res = await services.sales.withdraw(r.user, parsed.data);
      return `/w/buyer/withdrawn${opQuery(res.outcome)}`;
    });
  };

  const step = (what: "confirm" | "dispute") => (r: WebRequest) => {
    const saleId = saleIdOf(r.params);
    const parsed = parseForm(r.c, buyerStepInput, {});
    if (!parsed.ok) throw new DomainError("not_found", "sale_not_found", "no such sale");
    return writeOnce(r, once, async () => {
      const res = await services.sales[what](r.user, saleId, parsed.data);
      return `/w/buyer/orders/${saleId}/done/${what}${opQuery(res.outcome)}`;
    });
  };

  /** "Did you receive it?" before the confirmation that releases the money (her own shipped order only). */
  const askConfirm = async (r: WebRequest) => {
    const user = requireRole(r.user, "buyer");
    const sale = services.sales.get(saleIdOf(r.params));
    if (sale.buyer.toLowerCase() !== (user.address ?? "").toLowerCase())
      throw new DomainError("not_found", "sale_not_found", "no such sale");
    // Nothing to confirm (not shipped yet, or confirmed already): back to the orders, which say where it stands.
    if (sale.state !== "Shipped") return { redirect: withLang(r.c, "/w/buyer/orders") };
    const view = confirmDeliveryPage(r.c, { s: await saleView(deps, sale), csrf: r.csrf, once: formKey() });
    return { status: 200, view };
  };

  /** A confirmation that leads back to the orders. */
  const done = (r: WebRequest, title: string, text: string) => {
    const t = r.c.buying;
    const next = withLang(r.c, "/w/buyer/orders");
    return { status: 200, view: stepDonePage(r.c, { title, text, pending: r.pending, next, nextLabel: t.openOrders }) };
  };

  return [
    { method: "get", path: "/w/buyer/funds", handle: funds },
    { method: "post", path: "/w/buyer/funds", handle: useFaucet },
    { method: "post", path: "/market/:saleId/buy", handle: buy },
    { method: "get", path: "/w/buyer/orders", handle: orders },
    { method: "post", path: "/w/buyer/withdraw", handle: withdraw },
    {
      method: "get",
      path: "/w/buyer/withdrawn",
      handle: (r) => done(r, r.c.buying.withdrawnTitle, r.c.buying.withdrawnText),
    },
    { method: "get", path: "/w/buyer/orders/:saleId/confirm", handle: askConfirm },
    { method: "post", path: "/w/buyer/orders/:saleId/confirm", handle: step("confirm") },
    { method: "post", path: "/w/buyer/orders/:saleId/dispute", handle: step("dispute") },
    {
      method: "get",
      path: "/w/buyer/orders/:saleId/done/:what",
      handle: (r) => {
        const t = r.c.buying;
        const kind = r.params.what;
        const title = kind === "bought" ? t.boughtTitle : kind === "confirm" ? t.confirmedTitle : t.disputedTitle;
        return done(r, title, kind === "bought" ? t.boughtText : t.stepText);
      },
    },
  ];
}
