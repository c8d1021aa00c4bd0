/**
 * The arbiter's pages (issue 12): the sales under dispute, each in words (product, lot, cooperative, buyer,
 * price in the sale's currency, when the dispute was opened); one page per dispute asking what share of the
 * price goes back to the buyer (a whole percent, turned into the service's basis points and parsed with the
 * API's own `resolveInput`); then a confirmation saying what the buyer gets back and what goes to the
 * cooperative, computed as the escrow computes it (⌊price × refundBps / 10 000⌋ back to the buyer).
 *
 * Reads and the write are the sales service's (`disputes`, `get`, `resolve`), so the page and the API agree.
 */
import type { SaleDetail } from "../../index/queries";
import { html, type Html } from "../../pages/html";
import { formatterFor } from "../../pages/format";
import { productName, type Catalog } from "../../pages/i18n";
import { requireRole } from "../../services/access";
import { DomainError } from "../../services/errors";
import type { Services } from "../../services";
import { resolveInput } from "../../services/sales";
import { formKey, ONCE_FIELD, onceFields, parseForm, problemsOf, submitForm, type FormOnce } from "../forms";
import { doneStore, type Answer, type View, type WebPage, type WebRequest } from "../page";
import { progressBanner, type PendingWrite } from "../progress";
import { amountText, errorSummary, field, type FieldProblem } from "../views/components";
import { q } from "./admin";

interface TokenView {
  symbol: string;
  /** null when the token's decimals cannot be read now: the amount is then shown in its smallest unit. */
  decimals: number | null;
  currency?: string | null;
}

/** A disputed sale with what an arbiter needs to recognise it, in words. */
interface DisputeView {
  sale: SaleDetail;
  productCode: string;
  lotCode: string;
  cooperativeName: string;
  buyerName: string | null;
  token: TokenView;
}

function money(c: Catalog, raw: bigint | string, token: TokenView): string {
  return amountText(c, raw, token);
}

/** An amount inside a sentence, kept left to right ("0,3 ETH") in an Arabic one (Unicode LRI … PDI). */
const ltr = (text: string) => `\u2066${text}\u2069`;

function facts(c: Catalog, d: DisputeView): Html {
  const t = c.roles3;
  const opened = d.sale.dispute?.chain.blockTime;
  return html`<dl class="facts">
    <dt>${t.cooperative}</dt>
    <dd><bdi>${d.cooperativeName}</bdi></dd>
    <dt>${t.buyer}</dt>
    <dd>${d.buyerName === null ? t.buyerUnknown : html`<bdi>${d.buyerName}</bdi>`}</dd>
    <dt>${t.price}</dt>
    <dd><span class="price" dir="ltr">${money(c, d.sale.price, d.token)}</span></dd>
    ${
      opened === undefined
        ? ""
        : html`<dt>${t.disputedOn}</dt>
            <dd>${formatterFor(c).dateTime(opened)}</dd>`
    }
  </dl>`;
}

const what = (c: Catalog, d: DisputeView) =>
  html`<bdi>${productName(c, d.productCode)}</bdi> · <bdi dir="ltr">${d.lotCode}</bdi>`;

function listPage(c: Catalog, disputes: DisputeView[]): View {
  const t = c.roles3;
  const body = html`<h1>${t.disputesTitle}</h1>
    ${
      disputes.length === 0
        ? html`<p id="no-disputes">${t.noDisputes}</p>`
        : html`<p>${t.disputesIntro}</p>
            <p id="dispute-count"><strong>${t.disputeCount(disputes.length)}</strong></p>`
    }
    ${disputes.map(
      (d) =>
        html`<section class="panel dispute" data-sale="${d.sale.saleId}">
          <h2>${what(c, d)}</h2>
          <p class="note">${t.saleTitle(formatterFor(c).integer(d.sale.saleId))}</p>
          ${facts(c, d)}
          <p>
            <a class="button" id="${`dispute-${d.sale.saleId}`}" href="${q(c, `/w/arbiter/disputes/${d.sale.saleId}`)}"
              >${t.openResolve}</a
            >
          </p>
        </section>`,
    )}
    <p><a href="${q(c, "/w")}">${c.roles.back}</a></p>`;
  return { title: t.disputesTitle, body };
}

function resolveForm(
  c: Catalog,
  m: { d: DisputeView; value?: string; once?: string; problems: FieldProblem[]; csrf: Html },
): View {
  const t = c.roles3;
  const id = m.d.sale.saleId;
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="${q(c, `/w/arbiter/disputes/${id}`)}" novalidate>
      ${onceFields(m.csrf, m.once ?? formKey())}
      <h1>${t.resolveTitle}</h1>
      <section class="panel dispute" data-sale="${id}">
        <h2>${what(c, m.d)}</h2>
        <p class="note">${t.saleTitle(formatterFor(c).integer(id))}</p>
        ${facts(c, m.d)}
      </section>
      <p>${t.resolveIntro}</p>
      ${field({
        id: "refundPercent",
        label: t.refundPercent,
        hint: t.refundHint,
        value: m.value,
        error: m.problems.find((p) => p.field === "refundPercent")?.message,
        inputClass: "short",
        ltr: true,
        attributes: html`inputmode="numeric" min="0" max="100" step="1" autocomplete="off"`,
      })}
      <button type="submit" class="button big" id="resolve">${t.resolve}</button>
    </form>
    <p><a href="${q(c, "/w/arbiter/disputes")}">${t.backToDisputes}</a></p>`;
  return { title: t.resolveTitle, body };
}

function notDisputedPage(c: Catalog, d: DisputeView): View {
  const t = c.roles3;
  const body = html`<h1>${t.notDisputedTitle}</h1>
    <p>${what(c, d)}</p>
    <p id="not-disputed">${t.notDisputed(c.sales.states[d.sale.state])}</p>
    <p><a href="${q(c, "/w/arbiter/disputes")}">${t.backToDisputes}</a></p>`;
  return { title: t.notDisputedTitle, body };
}

interface Resolved {
  saleId: number;
  refund: bigint;
  rest: bigint;
  token: TokenView;
  /** The decision's write until the index shows the sale resolved; null from then on. */
  operationId: string | null;
}

/**
 * `pending`: the write is on the chain's way (or refused); `indexing`: written, not yet in the index. Either
 * way the page says so; only the first has an operation for the progress script to follow.
 */
function resolvedPage(c: Catalog, d: Resolved, self: string, pending: PendingWrite | null, indexing: boolean): View {
  const t = c.roles3;
  const waiting = pending !== null || indexing;
  const body = html`<div class="panel confirmation" id="resolved">
      <h1>${waiting ? t.pending : t.resolvedTitle}</h1>
      <p>${t.saleTitle(formatterFor(c).integer(d.saleId))}</p>
    </div>
    <p id="buyer-gets">${t.buyerGets(ltr(money(c, d.refund, d.token)))}</p>
    <p id="cooperative-gets">${t.cooperativeGets(ltr(money(c, d.rest, d.token)))}</p>
    ${
      pending !== null
        ? progressBanner(c, pending, t.lookAgain)
        : indexing
          ? html`<p><a id="look-again" href="${self}">${t.lookAgain}</a></p>`
          : html`<p>${t.resolvedText}</p>`
    }
    <ul class="links">
      <li><a href="${q(c, "/w/arbiter/disputes")}">${t.backToDisputes}</a></li>
      <li><a href="${q(c, "/w")}">${c.roles.back}</a></li>
    </ul>`;
  return { title: t.resolvedTitle, body };
}

/** "30" → 3000 basis points; anything else → null (a whole percent from 0 to 100 only). */
function percentToBps(text: string | undefined): number | null {
  const v = (text ?? "").trim();
  if (!/^[0-9]{1,3}$/.test(v)) return null;
  const n = Number(v);
  return n <= 100 ? n * 100 : null;
}

export function arbiterPages(
  services: Services,
  once: FormOnce,
  tokenView: (address: string) => Promise<TokenView>,
): WebPage[] {
  const done = doneStore<Resolved>();

  const viewOf = async (sale: SaleDetail, buyerName: string | null): Promise<DisputeView> => {
    const name = <T>(read: () => T): T | null => {
      try {
        return read();
      } catch (err) {
        if (err instanceof DomainError && err.kind === "not_found") return null;
        throw err;
      }
    };
    const batch = name(() => services.batches.get(sale.batchId));
    return {
      sale,
      productCode: batch?.productCode ?? "",
      lotCode: batch?.lotCode ?? "",
      cooperativeName: name(() => services.cooperatives.get(sale.cooperativeId))?.name ?? "",
      buyerName,
      token: await tokenView(sale.token),
    };
  };

  /** The sale of the URL, with the buyer's name when it is still under dispute (the service knows it then). */
  const disputeOf = async (r: WebRequest): Promise<DisputeView> => {
    const user = requireRole(r.user, "arbiter");
    const id = Number(r.params.saleId);
    if (!/^[0-9]{1,9}$/.test(r.params.saleId) || id < 1) throw new DomainError("not_found", "not_found", "no sale");
    const listed = services.sales.disputes(user).find((s) => s.saleId === id);
    return listed === undefined ? viewOf(services.sales.get(id), null) : viewOf(listed, listed.buyerName);
  };

  async function resolve(r: WebRequest): Promise<Answer> {
    const d = await disputeOf(r);
    const disputed = d.sale.state === "Disputed";
    const value = r.body.refundPercent;
    const bps = percentToBps(value);
    const parsed = parseForm(r.c, resolveInput, { refundBps: bps ?? -1 });
    const wrong = bps === null || !parsed.ok;
    if (wrong && !disputed) return { status: 409, view: notDisputedPage(r.c, d) };
    return submitForm(r, once, {
      parsed,
      problems: wrong ? [{ field: "refundPercent", message: r.c.roles3.refundBad }] : [],
      form: (problems) => resolveForm(r.c, { d, value, once: r.body[ONCE_FIELD], problems, csrf: r.csrf }),
      // The state is checked inside the once-only write: a double submit's second request, arriving after
      // the first was recorded, is sent to the first one's confirmation, not told the sale is settled.
      write: async (data) => {
        if (!disputed) return `/w/arbiter/disputes/${d.sale.saleId}`;
        const res = await services.sales.resolve(r.user, d.sale.saleId, data);
        const price = BigInt(d.sale.price);
        const refund = (price * BigInt(data.refundBps)) / 10_000n;
        const key = done.put(r.user.id, {
          saleId: d.sale.saleId,
          refund,
          rest: price - refund,
          token: d.token,
          // Followed until the index shows the sale resolved, mined or not (the page reads the index).
          operationId: res.outcome.operationId,
        });
        return `/w/arbiter/disputes/${d.sale.saleId}/done/${key}`;
      },
      // The one field of the form says what the service refused.
      refused: (err) => problemsOf(err)?.map((p) => ({ ...p, field: "refundPercent" })) ?? null,
    });
  }

  return [
    {
      method: "get",
      path: "/w/arbiter/disputes",
      handle: async (r) => {
        const list = services.sales.disputes(r.user);
        const views = await Promise.all(list.map((s) => viewOf(s, s.buyerName)));
        return { status: 200, view: listPage(r.c, views) };
      },
    },
    {
      method: "get",
      path: "/w/arbiter/disputes/:saleId",
      handle: async (r) => {
        const d = await disputeOf(r);
        if (d.sale.state !== "Disputed") return { status: 200, view: notDisputedPage(r.c, d) };
        return { status: 200, view: resolveForm(r.c, { d, problems: [], csrf: r.csrf }) };
      },
    },
    { method: "post", path: "/w/arbiter/disputes/:saleId", handle: resolve },
    {
      method: "get",
      path: "/w/arbiter/disputes/:saleId/done/:id",
      handle: (r) => {
        requireRole(r.user, "arbiter");
        const d = done.own(r.user.id, r.params.id);
        // A decision sent but not yet recorded is looked at again on each visit: the relayer says whether the
        // chain has it, the index whether the page can show it.
        if (d.operationId !== null && services.sales.get(d.saleId).state === "Resolved") d.operationId = null;
        const self = q(r.c, `/w/arbiter/disputes/${d.saleId}/done/${r.params.id}`);
        const pending = r.progress(d.operationId, self);
        return { status: 200, view: resolvedPage(r.c, d, self, pending, pending === null && d.operationId !== null) };
      },
    },
  ];
}
