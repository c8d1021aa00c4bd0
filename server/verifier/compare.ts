/**
 * The chain's view of a batch, in the shape the gateway serves at GET /api/v1/batches/:id, and a
 * field-by-field comparison of what a source claims (the gateway's JSON) with it. Only fields the
 * claim carries are compared; lists are matched by key (account, certification id, sale id, …).
 */
import { contributorSource, type LogRef, type Snapshot } from "./collect";
import { SALE_STATES, effectiveInfo } from "./checks";

export interface Difference {
  path: string;
  claimed: unknown;
  chain: unknown;
}

const ref = (r: LogRef) => ({ txHash: r.txHash, blockNumber: r.blockNumber, logIndex: r.logIndex });

/** JSON-ready facts of the batch as read from the chain (null when the batch was not found). */
export function chainView(snap: Snapshot) {
  const batchId = snap.batchId;
  if (batchId === null) return null;
  const reg = snap.registrations[batchId];
  const info = effectiveInfo(snap, batchId)!;
  const onChain = snap.onChain[batchId];
  const source = contributorSource(snap, batchId);
  const merge = snap.merges.find((m) => m.batchId === batchId);
  const splitFrom = snap.splits.find((s) => s.childIds.includes(batchId));
  const quantity = onChain?.quantity ?? reg.info.quantity;
  const drawn = onChain?.drawn ?? 0n;
  const coop = snap.cooperative;
  return {
    batchId,
    cooperativeId: Number(reg.cooperativeId),
    kind: splitFrom ? "split" : merge ? "merge" : "registered",
    registeredBy: reg.registeredBy,
    productCode: info.productCode,
    gtin: info.gtin.toString(),
    lotCode: reg.info.lotCode,
    quantity: quantity.toString(),
    unit: info.unit,
    origin: info.origin,
    productionDate: Number(info.productionDate),
    metadataHash: reg.info.metadataHash,
    contributorsRoot: onChain?.contributorsRoot ?? reg.contributorsRoot,
    totalWeight: (onChain?.totalWeight ?? reg.totalWeight).toString(),
    contributorsFrom: source && source.via.length > 0 ? source.registration.batchId : null,
    drawn: drawn.toString(),
    available: (quantity - drawn).toString(),
    chain: ref(reg.ref),
    cooperative: coop && {
      cooperativeId: Number(reg.cooperativeId),
      name: coop.name,
      region: coop.region,
      registrationNumber: coop.registrationNumber,
      admin: coop.admin,
      reserveBps: Number(coop.reserveBps),
      womenLed: coop.womenLed,
      memberCount: Number(coop.memberCount),
    },
    contributors: (source?.contributors ?? []).map((x) => ({ account: x.account, weight: x.weight.toString() })),
    events: snap.events.map((e) => ({
      bizStep: e.bizStep,
      location: e.location,
      eventTime: Number(e.eventTime),
      documentHash: e.documentHash,
      recordedBy: e.recordedBy,
      chain: ref(e.ref),
    })),
    certifications: snap.certifications.map((c) => ({
      certificationId: Number(c.certificationId),
      certifier: c.certifier,
      scheme: c.scheme,
      certificateHash: c.certificateHash,
      validUntil: c.validUntil.toString(),
      revoked: c.revocation !== null,
      validNow: c.validNow,
      chain: ref(c.ref),
    })),
    parents: [
      ...(splitFrom
        ? [
            {
              batchId: splitFrom.parentId,
              kind: "split",
              quantity: splitFrom.quantities[splitFrom.childIds.indexOf(batchId)].toString(),
              chain: ref(splitFrom.ref),
            },
          ]
        : []),
      ...(merge?.inputs ?? []).map((i) => ({
        batchId: i.batchId,
        kind: "merge",
        quantity: i.quantity.toString(),
        chain: ref(merge!.ref),
      })),
    ],
    children: [
      ...snap.splits
        .filter((s) => s.parentId === batchId)
        .flatMap((s) =>
          s.childIds.map((child, i) => ({
            batchId: child,
            kind: "split",
            quantity: s.quantities[i].toString(),
            chain: ref(s.ref),
          })),
        ),
      ...snap.merges
        .filter((m) => m.inputs.some((i) => i.batchId === batchId))
        .map((m) => ({
          batchId: m.batchId,
          kind: "merge",
          quantity: m.inputs.find((i) => i.batchId === batchId)!.quantity.toString(),
          chain: ref(m.ref),
        })),
    ],
    sales: snap.sales.map((s) => ({
      saleId: Number(s.created.saleId),
      batchId: s.created.batchId,
      cooperativeId: Number(s.created.cooperativeId),
      seller: s.created.seller,
      buyer: s.onChain?.buyer ?? s.created.buyer,
      token: s.created.token,
      price: s.created.price.toString(),
      quantity: s.created.quantity.toString(),
      feeBps: Number(s.created.feeBps),
      reserveBps: Number(s.created.reserveBps),
      state: s.onChain ? SALE_STATES[s.onChain.state] : null,
      // The times and shares the page serves: each forgeable in an index, each compared.
      shippingPeriod: Number(s.created.shippingPeriod),
      disputeWindow: Number(s.created.disputeWindow),
      fundedAmount: s.funded ? s.funded.amount.toString() : null,
      shipBy: s.funded ? Number(s.funded.shipBy) : null,
      shipmentDocumentHash: s.shipped ? s.shipped.documentHash : null,
      disputeUntil: s.shipped ? Number(s.shipped.disputeUntil) : null,
      dispute: s.disputeOpened && {
        buyer: s.disputeOpened.buyer,
        reasonHash: s.disputeOpened.reasonHash,
        chain: ref(s.disputeOpened.ref),
        resolution: s.disputeResolved && {
          arbiter: s.disputeResolved.arbiter,
          refundBps: Number(s.disputeResolved.refundBps),
          rulingHash: s.disputeResolved.rulingHash,
          chain: ref(s.disputeResolved.ref),
        },
      },
      chain: ref(s.created.ref),
      releases: s.releases.map((r) => ({
        gross: r.gross.toString(),
        fee: r.fee.toString(),
        reserve: r.reserve.toString(),
        net: r.net.toString(),
        releasedTotal: r.releasedTotal.toString(),
        chain: ref(r.ref),
      })),
      refunds: s.refunds.map((r) => ({ buyer: r.buyer, amount: r.amount.toString(), chain: ref(r.ref) })),
    })),
  };
}

export type ChainView = NonNullable<ReturnType<typeof chainView>>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function norm(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return /^0x[0-9a-fA-F]*$/.test(s) ? s.toLowerCase() : s;
}

/** Keys of list items, per list name (the last path segment). */
const KEYS: Record<string, (item: Record<string, Json>) => string> = {
  contributors: (x) => norm(x.account),
  events: (x) =>
    `${norm((x.chain as Record<string, Json>)?.txHash)}#${norm((x.chain as Record<string, Json>)?.logIndex)}`,
  certifications: (x) => norm(x.certificationId),
  parents: (x) => norm(x.batchId),
  children: (x) => norm(x.batchId),
  sales: (x) => norm(x.saleId),
  releases: (x) =>
    `${norm((x.chain as Record<string, Json>)?.txHash)}#${norm((x.chain as Record<string, Json>)?.logIndex)}`,
  refunds: (x) =>
    `${norm((x.chain as Record<string, Json>)?.txHash)}#${norm((x.chain as Record<string, Json>)?.logIndex)}`,
};

function walk(claimed: Json, chain: Json, path: string, name: string, out: Difference[]): void {
  if (Array.isArray(chain)) {
    if (!Array.isArray(claimed)) {
      out.push({ path, claimed, chain });
      return;
    }
    const key = KEYS[name];
    if (key === undefined) {
      if (norm(claimed) !== norm(chain)) out.push({ path, claimed, chain });
      return;
    }
    const chainItems = new Map(chain.map((x) => [key(x as Record<string, Json>), x]));
    const claimedItems = new Map(claimed.map((x) => [key(x as Record<string, Json>), x]));
    for (const [k, item] of chainItems) {
      const mine = claimedItems.get(k);
      if (mine === undefined) out.push({ path: `${path}[${k}]`, claimed: "(missing)", chain: item });
      else walk(mine, item, `${path}[${k}]`, name, out);
    }
    for (const [k, item] of claimedItems) {
      if (!chainItems.has(k)) out.push({ path: `${path}[${k}]`, claimed: item, chain: "(not on chain)" });
    }
    return;
  }
  if (chain !== null && typeof chain === "object") {
    if (claimed === null || typeof claimed !== "object" || Array.isArray(claimed)) {
      out.push({ path, claimed, chain });
      return;
    }
    for (const [k, v] of Object.entries(chain)) {
      if (!(k in claimed)) continue; // a field the source does not claim
      walk(claimed[k], v, path ? `${path}.${k}` : k, k, out);
    }
    return;
  }
  if (norm(claimed) !== norm(chain)) out.push({ path, claimed, chain });
}

/** Every field the claim carries that differs from the chain's view. */
export function compareWithChain(claimed: unknown, view: ChainView): Difference[] {
  const out: Difference[] = [];
  walk(claimed as Json, JSON.parse(JSON.stringify(view)) as Json, "", "", out);
  return out;
}
