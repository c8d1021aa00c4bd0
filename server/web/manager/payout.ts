/**
 * Paying members their shares, and releasing a sale after its dispute window (mounted by routes.ts):
 *
 * - GET /w/manager/payouts: per lot and currency, each member still owed and how much (the service's
 *   unpaidShares: the index computes it as the escrow does), a "pay <name>" button for each and a "pay
 *   everyone" for the lot; below, the shipped sales whose dispute window has passed with no word from
 *   the buyer, each with "release the payment";
 * - POST /w/manager/payouts/pay → sales.claim with memberId (the escrow's claimFor: the money goes to the
 *   member, never to the manager) for one member or each one owed → 303 → who was paid how much;
 * - POST /w/manager/sales/:saleId/release → sales.release → 303 → its confirmation.
 *
 * A double submit pays once (the once-key); a stale page that asks to pay a member already paid is
 * refused by the escrow (nothing due), which the confirmation says calmly instead of an error.
 */
import { claimInput } from "../../services/sales";
import { DomainError } from "../../services/errors";
import type { Services } from "../../services";
import type { OperationStatus } from "../../relayer";
import { formKey, parseForm, writeOnce, type FormOnce } from "../forms";
import { opQuery, progressOf, type PendingWrite } from "../progress";
import { doneStore, withLang } from "../page";
import { revertOf, type ManagerPage, type ManagerRequest } from "./kit";
import { paidPage, payoutsPage, releasedPage, type OwedGroup, type PaidLine, type TokenView } from "./payoutViews";

export interface PayoutDeps {
  services: Pick<Services, "sales" | "batches" | "cooperatives">;
  once: FormOnce;
  tokenView: (address: string) => Promise<TokenView>;
  gtinOf: (batchId: string) => string;
  /** The chain's time (latest block), which decides whether a dispute window has passed. */
  chainNow: () => Promise<number>;
  /** The relayer's word on an operation (progress.ts): a payout not yet mined is looked up on each visit. */
  status: (operationId: string) => OperationStatus | undefined;
}

interface Paid {
  lines: PaidLine[];
  token: TokenView;
  lot: { batchId: string; productCode: string; lotCode: string; gtin: string };
  /** The claims not mined when the page was answered: it stays "on its way" while any of them is. */
  operationIds: string[];
}

export function payoutPages(deps: PayoutDeps): ManagerPage[] {
  const { services, once } = deps;
  const paid = doneStore<Paid>();

  const { tokenView } = deps;

  const lotOf = (batchId: string) => {
    const b = services.batches.get(batchId);
    return { batchId, productCode: b.productCode, lotCode: b.lotCode, gtin: deps.gtinOf(batchId) };
  };

  const show = async (r: ManagerRequest) => {
    const groups = new Map<string, OwedGroup>();
    for (const u of services.sales.unpaidShares(r.user, r.coopId)) {
      const key = `${u.batchId}/${u.token.toLowerCase()}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { ...lotOf(u.batchId), token: await tokenView(u.token), members: [], once: formKey() };
        groups.set(key, g);
      }
      g.members.push({ userId: u.userId, name: u.displayName, due: BigInt(u.claimable), once: formKey() });
    }
    const now = await deps.chainNow();
    const releasable = await Promise.all(
      services.sales
        .openSales(r.user, r.coopId)
        .filter((s) => s.state === "Shipped" && s.disputeUntil !== null && s.disputeUntil < now)
        .map(async (s) => ({
          saleId: s.saleId,
          ...lotOf(s.batchId),
          price: BigInt(s.price),
          token: await tokenView(s.token),
          disputeUntil: s.disputeUntil!,
          once: formKey(),
        })),
    );
    return { status: 200, view: payoutsPage(r.c, { groups: [...groups.values()], releasable, csrf: r.csrf }) };
  };

  const pay = async (r: ManagerRequest) => {
    const b = r.body;
    const base = parseForm(r.c, claimInput, { batchId: b.batchId, token: b.token });
    const one =
      b.memberId === undefined
        ? undefined
        : parseForm(r.c, claimInput, { batchId: b.batchId, token: b.token, memberId: b.memberId });
    // The form has only hidden fields: a bad one is a hand-made request, refused as such.
    if (!base.ok || (one !== undefined && !one.ok))
      throw new DomainError("not_found", "batch_not_found", "no such lot, currency or member");
    const { batchId, token } = base.data;
    const lot = lotOf(batchId);
    if (Number(services.batches.get(batchId).cooperativeId) !== r.coopId)
      throw new DomainError("not_found", "batch_not_found", `no batch ${batchId}`);
    return writeOnce(r, once, async () => {
      const owed = services.sales
        .unpaidShares(r.user, r.coopId)
        .filter((u) => u.batchId === batchId && u.token.toLowerCase() === token.toLowerCase() && u.userId !== null);
      const names = new Map(
        services.cooperatives
          .listMembers(r.user, r.coopId)
          .filter((m) => m.userId !== null)
          .map((m) => [m.userId!, m.displayName]),
      );
      const targets = one?.ok === true ? [one.data.memberId!] : owed.map((u) => u.userId!);
      const lines: PaidLine[] = [];
      const operationIds: string[] = [];
      // One claim after the other: each is its own relayed request, and a refusal stops none of the others.
      for (const memberId of targets) {
        const name = names.get(memberId) ?? null;
        try {
          const res = await services.sales.claim(r.user, { batchId, token, memberId });
          if (res.outcome.status !== "mined") operationIds.push(res.outcome.operationId);
          lines.push({ name, amount: res.amount === null ? null : BigInt(res.amount), alreadyPaid: false });
        } catch (err) {
          if (revertOf(err)?.name !== "SaleEscrowNothingDue") throw err;
          lines.push({ name, amount: null, alreadyPaid: true });
        }
      }
      const key = paid.put(r.user.id, { lines, token: await tokenView(token), lot, operationIds });
      return `/w/manager/payouts/done/${key}`;
    });
  };

  const done = (r: ManagerRequest) => {
    const d = paid.get(r.user.id, r.params.key);
    if (d === undefined) throw new DomainError("not_found", "not_found", "no such page");
    return { status: 200, view: paidPage(r.c, { ...d, pending: stillPending(r, d) }) };
  };

  /** The first claim still on its way (the script follows it, then comes back for the next), else one refused. */
  const stillPending = (r: ManagerRequest, d: Paid): PendingWrite | null => {
    const self = withLang(r.c, `/w/manager/payouts/done/${r.params.key}`);
    const states = d.operationIds.map((id) => ({ operationId: id, state: progressOf(deps.status(id)) }));
    const open = states.find((s) => s.state === "pending") ?? states.find((s) => s.state === "failed");
    return open === undefined || open.state === "done"
      ? null
      : { operationId: open.operationId, state: open.state, self };
  };

  const release = async (r: ManagerRequest) => {
    const saleId = Number(r.params.saleId);
    if (!Number.isSafeInteger(saleId) || saleId < 1) throw new DomainError("not_found", "sale_not_found", "no sale");
    return writeOnce(r, once, async () => {
      try {
        const res = await services.sales.release(r.user, saleId);
        return `/w/manager/sales/${saleId}/released${opQuery(res.outcome)}`;
      } catch (err) {
        // Released meanwhile (by the buyer, an arbiter, or another page): nothing to do, and it is said so.
        if (revertOf(err)?.name === "SaleEscrowInvalidState") return `/w/manager/sales/${saleId}/released?already=1`;
        throw err;
      }
    });
  };

  const released = (r: ManagerRequest) => {
    const sale = services.sales.get(Number(r.params.saleId));
    if (sale.cooperativeId !== r.coopId) throw new DomainError("not_found", "sale_not_found", "no such sale");
    return {
      status: 200,
      view: releasedPage(r.c, {
        saleId: sale.saleId,
        lot: lotOf(sale.batchId),
        already: r.query.already === "1",
        pending: r.pending,
      }),
    };
  };

  return [
    { method: "get", path: "/w/manager/payouts", handle: show },
    { method: "post", path: "/w/manager/payouts/pay", handle: pay },
    { method: "get", path: "/w/manager/payouts/done/:key", handle: done },
    { method: "post", path: "/w/manager/sales/:saleId/release", handle: release },
    { method: "get", path: "/w/manager/sales/:saleId/released", handle: released },
  ];
}
