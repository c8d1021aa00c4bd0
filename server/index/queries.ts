/**
 * The read model over the index: plain, JSON-ready objects for the API and the pages. Amounts,
 * quantities and weights are exact decimal strings; ids, basis points and times are numbers; every
 * on-chain fact comes with `chain` (tx hash, block, log index, block time) so a reader can check it.
 */
import { toAddress as getAddress } from "../chain/address";
import { shareOf } from "../../domain/split";
import type { Db } from "../store/db";
import type { SaleState } from "./project";
import { INDEX_TABLES } from "./schema";

export type { SaleState };

/** Largest page any list returns. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface ChainRef {
  txHash: string;
  blockNumber: number;
  logIndex: number;
  blockTime: number;
}

export interface PageOptions {
  limit?: number;
  offset?: number;
}

export interface Page<T> {
  items: T[];
  /** Matching rows in all pages. */
  total: number;
  limit: number;
  offset: number;
}

export interface Cooperative {
  cooperativeId: number;
  name: string;
  region: string;
  registrationNumber: string;
  admin: string;
  reserveBps: number;
  womenLed: boolean;
  /** Active members. */
  memberCount: number;
  chain: ChainRef;
}

export interface CooperativeChange {
  kind: "admin" | "reserve";
  /** Addresses for an admin change; basis points for a reserve rate change. */
  previous: string | number;
  value: string | number;
  chain: ChainRef;
}

export interface CooperativeDetail extends Cooperative {
  batchCount: number;
  changes: CooperativeChange[];
}

export interface Member {
  cooperativeId: number;
  account: string;
  referenceHash: string;
  active: boolean;
  chain: ChainRef;
  removed: ChainRef | null;
}

export interface Batch {
  batchId: string;
  cooperativeId: number;
  kind: "registered" | "split" | "merge";
  registeredBy: string;
  productCode: string;
  /** GTIN-14 as a decimal string, "0" when the product has none. */
  gtin: string;
  lotCode: string;
  quantity: string;
  unit: string;
  origin: string;
  productionDate: number;
  metadataHash: string;
  contributorsRoot: string;
  totalWeight: string;
  /** For a split child: the batch whose registration emitted the contributors it shares. */
  contributorsFrom: string | null;
  drawn: string;
  available: string;
  chain: ChainRef;
}

export interface BatchEventRow {
  bizStep: string;
  location: string;
  eventTime: number;
  documentHash: string;
  recordedBy: string;
  chain: ChainRef;
}

export interface CertificationRow {
  certificationId: number;
  certifier: string;
  scheme: string;
  certificateHash: string;
  /** uint64 unix seconds as a decimal string (may exceed 2^53). */
  validUntil: string;
  revoked: boolean;
  revocation: { certifier: string; reasonHash: string; chain: ChainRef } | null;
  chain: ChainRef;
}

export interface LineageLink {
  batchId: string;
  kind: "split" | "merge";
  quantity: string;
  actor: string;
  chain: ChainRef;
}

export interface QuantityChange {
  kind: "drawn" | "restored";
  quantity: string;
  drawnTotal: string;
  chain: ChainRef;
}

export interface BatchDetail extends Batch {
  cooperative: Cooperative | null;
  contributors: { account: string; weight: string }[];
  events: BatchEventRow[];
  certifications: CertificationRow[];
  parents: LineageLink[];
  children: LineageLink[];
  quantityChanges: QuantityChange[];
  sales: SaleDetail[];
}

export interface Sale {
  saleId: number;
  batchId: string;
  cooperativeId: number;
  seller: string;
  /** The zero address for an open offer not yet funded. */
  buyer: string;
  /** The zero address for ETH. */
  token: string;
  price: string;
  quantity: string;
  feeBps: number;
  reserveBps: number;
  shippingPeriod: number;
  disputeWindow: number;
  state: SaleState;
  fundedAmount: string | null;
  fundedAt: number | null;
  shipBy: number | null;
  shippedAt: number | null;
  shipmentDocumentHash: string | null;
  disputeUntil: number | null;
  chain: ChainRef;
}

export interface Release {
  gross: string;
  fee: string;
  reserve: string;
  net: string;
  /** The batch's cumulative net in this token after this release. */
  releasedTotal: string;
  chain: ChainRef;
}

export interface Refund {
  buyer: string;
  amount: string;
  chain: ChainRef;
}

export interface Dispute {
  buyer: string;
  reasonHash: string;
  chain: ChainRef;
  resolution: { arbiter: string; refundBps: number; rulingHash: string; chain: ChainRef } | null;
}

export type SaleStep =
  "created" | "funded" | "shipped" | "confirmed" | "released" | "disputed" | "resolved" | "cancelled" | "refunded";

export interface SaleDetail extends Sale {
  releases: Release[];
  refunds: Refund[];
  dispute: Dispute | null;
  /** Every transaction of the sale, in chain order. */
  steps: { step: SaleStep; actor: string | null; chain: ChainRef }[];
}

export interface Balance {
  batchId: string;
  cooperativeId: number;
  productCode: string;
  lotCode: string;
  token: string;
  weight: string;
  totalWeight: string;
  releasedTotal: string;
  claimed: string;
  /** ⌊releasedTotal × weight / totalWeight⌋ − claimed, as the escrow computes it. */
  claimable: string;
}

export interface Queries {
  listCooperatives(options?: PageOptions): Page<Cooperative>;
  getCooperative(cooperativeId: number): CooperativeDetail | null;
  listMembers(cooperativeId: number): Member[];
  /**
   * What `account` is in `cooperativeId` as far as the index knows: "admin", "member" or null;
   * undefined when the cooperative is unknown. For fast pre-checks; the contracts decide.
   */
  standingIn(cooperativeId: number, account: string): "admin" | "member" | null | undefined;
  listBatches(options?: PageOptions & { cooperativeId?: number; productCode?: string }): Page<Batch>;
  getBatch(batchId: string): BatchDetail | null;
  listSales(options?: PageOptions & { batchId?: string; cooperativeId?: number; state?: SaleState }): Page<Sale>;
  getSale(saleId: number): SaleDetail | null;
  /** What `address` earned as a contributor, per batch and token released for it. */
  balancesOf(address: string): Balance[];
  /**
   * What the escrow holds for `address` to withdraw, per token, from buyer refunds: refunded minus
   * withdrawn (the escrow's `credited`, as far as the index has followed it); zero balances left out.
   */
  refundCreditsOf(address: string): { token: string; amount: string }[];
  /** Rows per index table (for the reindex CLI and health). */
  counts(): Record<string, number>;
}

type Row = Record<string, unknown>;

export function chainOf(row: Row, prefix = ""): ChainRef {
  return {
    txHash: row[`${prefix}tx_hash`] as string,
    blockNumber: row[`${prefix}block_number`] as number,
    logIndex: row[`${prefix}log_index`] as number,
    blockTime: row[`${prefix}block_time`] as number,
  };
}

function page(options: PageOptions | undefined): { limit: number; offset: number } {
  const limit = Math.floor(options?.limit ?? DEFAULT_PAGE_SIZE);
  const offset = Math.floor(options?.offset ?? 0);
  return {
    limit: Number.isFinite(limit) ? Math.min(Math.max(limit, 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE,
    offset: Number.isFinite(offset) ? Math.max(offset, 0) : 0,
  };
}

function cooperativeOf(row: Row): Cooperative {
  return {
    cooperativeId: row.cooperative_id as number,
    name: row.name as string,
    region: row.region as string,
    registrationNumber: row.registration_number as string,
    admin: row.admin as string,
    reserveBps: row.reserve_bps as number,
    womenLed: row.women_led === 1,
    memberCount: row.member_count as number,
    chain: chainOf(row),
  };
}

function batchOf(row: Row): Batch {
  return {
    batchId: row.batch_id as string,
    cooperativeId: row.cooperative_id as number,
    kind: row.kind as Batch["kind"],
    registeredBy: row.registered_by as string,
    productCode: row.product_code as string,
    gtin: row.gtin as string,
    lotCode: row.lot_code as string,
    quantity: row.quantity as string,
    unit: row.unit as string,
    origin: row.origin as string,
    productionDate: row.production_date as number,
    metadataHash: row.metadata_hash as string,
    contributorsRoot: row.contributors_root as string,
    totalWeight: row.total_weight as string,
    contributorsFrom: (row.contributors_from as string | null) ?? null,
    drawn: row.drawn as string,
    available: (BigInt(row.quantity as string) - BigInt(row.drawn as string)).toString(),
    chain: chainOf(row),
  };
}

function saleOf(row: Row): Sale {
  return {
    saleId: row.sale_id as number,
    batchId: row.batch_id as string,
    cooperativeId: row.cooperative_id as number,
    seller: row.seller as string,
    buyer: row.buyer as string,
    token: row.token as string,
    price: row.price as string,
    quantity: row.quantity as string,
    feeBps: row.fee_bps as number,
    reserveBps: row.reserve_bps as number,
    shippingPeriod: row.shipping_period as number,
    disputeWindow: row.dispute_window as number,
    state: row.state as SaleState,
    fundedAmount: (row.funded_amount as string | null) ?? null,
    fundedAt: (row.funded_at as number | null) ?? null,
    shipBy: (row.ship_by as number | null) ?? null,
    shippedAt: (row.shipped_at as number | null) ?? null,
    shipmentDocumentHash: (row.shipment_document_hash as string | null) ?? null,
    disputeUntil: (row.dispute_until as number | null) ?? null,
    chain: chainOf(row),
  };
}

function normalizeBatchId(batchId: string): string {
  return batchId.toLowerCase();
}

const COOPERATIVE_SELECT = `
  SELECT c.*, (SELECT COUNT(*) FROM ix_members m WHERE m.cooperative_id = c.cooperative_id AND m.active = 1) AS member_count
  FROM ix_cooperatives c`;

export function createQueries(db: Db): Queries {
  // Filtered lists build their SQL from a few fixed clauses: prepare each variant once.
  const cache = new Map<string, ReturnType<Db["prepare"]>>();
  const prepared = (sql: string) => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt as import("better-sqlite3").Statement<unknown[], Row>;
  };
  const q = {
    coopAdmin: db.prepare<[number], { admin: string }>("SELECT admin FROM ix_cooperatives WHERE cooperative_id = ?"),
    activeMember: db.prepare<[number, string], { one: number }>(
      "SELECT 1 AS one FROM ix_members WHERE cooperative_id = ? AND lower(account) = ? AND active = 1",
    ),
    coopCount: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM ix_cooperatives"),
    coopPage: db.prepare<[number, number], Row>(`${COOPERATIVE_SELECT} ORDER BY c.cooperative_id LIMIT ? OFFSET ?`),
    coop: db.prepare<[number], Row>(`${COOPERATIVE_SELECT} WHERE c.cooperative_id = ?`),
    coopBatchCount: db.prepare<[number], { n: number }>(
      "SELECT COUNT(*) AS n FROM ix_batches WHERE cooperative_id = ?",
    ),
    coopChanges: db.prepare<[number], Row>(
      "SELECT * FROM ix_cooperative_changes WHERE cooperative_id = ? ORDER BY block_number, log_index",
    ),
    members: db.prepare<[number], Row>(
      "SELECT * FROM ix_members WHERE cooperative_id = ? ORDER BY block_number, log_index",
    ),
    batch: db.prepare<[string], Row>("SELECT * FROM ix_batches WHERE batch_id = ?"),
    contributors: db.prepare<[string], { account: string; weight: string }>(
      "SELECT account, weight FROM ix_batch_contributors WHERE batch_id = ? ORDER BY position",
    ),
    events: db.prepare<[string], Row>(
      "SELECT * FROM ix_batch_events WHERE batch_id = ? ORDER BY event_time, block_number, log_index",
    ),
    certifications: db.prepare<[string], Row>(
      "SELECT * FROM ix_certifications WHERE batch_id = ? ORDER BY certification_id",
    ),
    parents: db.prepare<[string], Row>(
      "SELECT *, parent_id AS other FROM ix_lineage WHERE child_id = ? ORDER BY block_number, log_index, position",
    ),
    children: db.prepare<[string], Row>(
      "SELECT *, child_id AS other FROM ix_lineage WHERE parent_id = ? ORDER BY block_number, log_index, position",
    ),
    quantityChanges: db.prepare<[string], Row>(
      "SELECT * FROM ix_quantity_changes WHERE batch_id = ? ORDER BY block_number, log_index",
    ),
    salesOfBatch: db.prepare<[string], Row>("SELECT * FROM ix_sales WHERE batch_id = ? ORDER BY sale_id"),
    sale: db.prepare<[number], Row>("SELECT * FROM ix_sales WHERE sale_id = ?"),
    releases: db.prepare<[number], Row>("SELECT * FROM ix_releases WHERE sale_id = ? ORDER BY block_number, log_index"),
    refunds: db.prepare<[number], Row>("SELECT * FROM ix_refunds WHERE sale_id = ? ORDER BY block_number, log_index"),
    dispute: db.prepare<[number], Row>("SELECT * FROM ix_disputes WHERE sale_id = ?"),
    steps: db.prepare<[number], Row>("SELECT * FROM ix_sale_steps WHERE sale_id = ? ORDER BY block_number, log_index"),
    earnings: db.prepare<[string], Row>(
      `SELECT c.batch_id, c.weight, b.total_weight, b.cooperative_id, b.product_code, b.lot_code, r.token, r.released_total
       FROM ix_batch_contributors c
       JOIN ix_batches b ON b.batch_id = c.batch_id
       JOIN (SELECT batch_id, token, released_total,
               ROW_NUMBER() OVER (PARTITION BY batch_id, token ORDER BY block_number DESC, log_index DESC) AS latest
             FROM ix_releases) r ON r.batch_id = c.batch_id AND r.latest = 1
       WHERE c.account = ?
       ORDER BY b.block_number, b.log_index, r.token`,
    ),
    claims: db.prepare<[string], { batch_id: string; token: string; amount: string }>(
      "SELECT batch_id, token, amount FROM ix_claims WHERE account = ?",
    ),
    refundsTo: db.prepare<[string], { token: string; amount: string }>(
      "SELECT token, amount FROM ix_refunds WHERE buyer = ?",
    ),
    withdrawalsBy: db.prepare<[string], { token: string; amount: string }>(
      "SELECT token, amount FROM ix_withdrawals WHERE account = ?",
    ),
  };

  function link(row: Row): LineageLink {
    return {
      batchId: row.other as string,
      kind: row.kind as LineageLink["kind"],
      quantity: row.quantity as string,
      actor: row.actor as string,
      chain: chainOf(row),
    };
  }

  function saleDetail(row: Row): SaleDetail {
    const sale = saleOf(row);
    const dispute = q.dispute.get(sale.saleId);
    return {
      ...sale,
      releases: q.releases.all(sale.saleId).map((r) => ({
        gross: r.gross as string,
        fee: r.fee as string,
        reserve: r.reserve as string,
        net: r.net as string,
        releasedTotal: r.released_total as string,
        chain: chainOf(r),
      })),
      refunds: q.refunds.all(sale.saleId).map((r) => ({
        buyer: r.buyer as string,
        amount: r.amount as string,
        chain: chainOf(r),
      })),
      dispute:
        dispute === undefined
          ? null
          : {
              buyer: dispute.buyer as string,
              reasonHash: dispute.reason_hash as string,
              chain: chainOf(dispute),
              resolution:
                dispute.resolved_tx_hash === null
                  ? null
                  : {
                      arbiter: dispute.arbiter as string,
                      refundBps: dispute.refund_bps as number,
                      rulingHash: dispute.ruling_hash as string,
                      chain: chainOf(dispute, "resolved_"),
                    },
            },
      steps: q.steps.all(sale.saleId).map((s) => ({
        step: s.step as SaleStep,
        actor: (s.actor as string | null) ?? null,
        chain: chainOf(s),
      })),
    };
  }

  return {
    listCooperatives(options) {
      const { limit, offset } = page(options);
      return {
        items: q.coopPage.all(limit, offset).map(cooperativeOf),
        total: q.coopCount.get()?.n ?? 0,
        limit,
        offset,
      };
    },

    standingIn(cooperativeId, account) {
      const coop = q.coopAdmin.get(cooperativeId);
      if (coop === undefined) return undefined;
      if (coop.admin.toLowerCase() === account.toLowerCase()) return "admin";
      return q.activeMember.get(cooperativeId, account.toLowerCase()) !== undefined ? "member" : null;
    },

    getCooperative(cooperativeId) {
      const row = q.coop.get(cooperativeId);
      if (row === undefined) return null;
      return {
        ...cooperativeOf(row),
        batchCount: q.coopBatchCount.get(cooperativeId)?.n ?? 0,
        changes: q.coopChanges.all(cooperativeId).map((c) => ({
          kind: c.kind as CooperativeChange["kind"],
          previous: c.kind === "reserve" ? Number(c.previous) : (c.previous as string),
          value: c.kind === "reserve" ? Number(c.value) : (c.value as string),
          chain: chainOf(c),
        })),
      };
    },

    listMembers(cooperativeId) {
      return q.members.all(cooperativeId).map((m) => ({
        cooperativeId: m.cooperative_id as number,
        account: m.account as string,
        referenceHash: m.reference_hash as string,
        active: m.active === 1,
        chain: chainOf(m),
        removed: m.removed_tx_hash === null ? null : chainOf(m, "removed_"),
      }));
    },

    listBatches(options) {
      const { limit, offset } = page(options);
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (options?.cooperativeId !== undefined) {
        where.push("cooperative_id = ?");
        params.push(options.cooperativeId);
      }
      if (options?.productCode !== undefined) {
        where.push("product_code = ?");
        params.push(options.productCode);
      }
      const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      const total = prepared(`SELECT COUNT(*) AS n FROM ix_batches ${clause}`).get(...params);
      const rows = prepared(`SELECT * FROM ix_batches ${clause} ORDER BY block_number, log_index LIMIT ? OFFSET ?`).all(
        ...params,
        limit,
        offset,
      );
      return { items: rows.map(batchOf), total: (total?.n as number | undefined) ?? 0, limit, offset };
    },

    getBatch(batchId) {
      const id = normalizeBatchId(batchId);
      const row = q.batch.get(id);
      if (row === undefined) return null;
      const batch = batchOf(row);
      const coop = q.coop.get(batch.cooperativeId);
      return {
        ...batch,
        cooperative: coop === undefined ? null : cooperativeOf(coop),
        contributors: q.contributors.all(id),
        events: q.events.all(id).map((e) => ({
          bizStep: e.biz_step as string,
          location: e.location as string,
          eventTime: e.event_time as number,
          documentHash: e.document_hash as string,
          recordedBy: e.recorded_by as string,
          chain: chainOf(e),
        })),
        certifications: q.certifications.all(id).map((c) => ({
          certificationId: c.certification_id as number,
          certifier: c.certifier as string,
          scheme: c.scheme as string,
          certificateHash: c.certificate_hash as string,
          validUntil: c.valid_until as string,
          revoked: c.revoked === 1,
          revocation:
            c.revoked === 1
              ? {
                  certifier: c.revoked_by as string,
                  reasonHash: c.revoke_reason_hash as string,
                  chain: chainOf(c, "revoked_"),
                }
              : null,
          chain: chainOf(c),
        })),
        parents: q.parents.all(id).map(link),
        children: q.children.all(id).map(link),
        quantityChanges: q.quantityChanges.all(id).map((c) => ({
          kind: c.kind as QuantityChange["kind"],
          quantity: c.quantity as string,
          drawnTotal: c.drawn_total as string,
          chain: chainOf(c),
        })),
        sales: q.salesOfBatch.all(id).map(saleDetail),
      };
    },

    listSales(options) {
      const { limit, offset } = page(options);
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (options?.batchId !== undefined) {
        where.push("batch_id = ?");
        params.push(normalizeBatchId(options.batchId));
      }
      if (options?.cooperativeId !== undefined) {
        where.push("cooperative_id = ?");
        params.push(options.cooperativeId);
      }
      if (options?.state !== undefined) {
        where.push("state = ?");
        params.push(options.state);
      }
      const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      const total = prepared(`SELECT COUNT(*) AS n FROM ix_sales ${clause}`).get(...params);
      const rows = prepared(`SELECT * FROM ix_sales ${clause} ORDER BY sale_id LIMIT ? OFFSET ?`).all(
        ...params,
        limit,
        offset,
      );
      return { items: rows.map(saleOf), total: (total?.n as number | undefined) ?? 0, limit, offset };
    },

    getSale(saleId) {
      const row = q.sale.get(saleId);
      return row === undefined ? null : saleDetail(row);
    },

    refundCreditsOf(address) {
      const account = getAddress(address);
      // Amounts are decimal strings of uint256: summed as bigints, never by SQLite (floats).
      const credit = new Map<string, bigint>();
      for (const r of q.refundsTo.all(account)) credit.set(r.token, (credit.get(r.token) ?? 0n) + BigInt(r.amount));
      for (const w of q.withdrawalsBy.all(account)) credit.set(w.token, (credit.get(w.token) ?? 0n) - BigInt(w.amount));
      return [...credit]
        .filter(([, amount]) => amount > 0n)
        .map(([token, amount]) => ({ token, amount: amount.toString() }));
    },

    balancesOf(address) {
      const account = getAddress(address);
      const claimed = new Map<string, bigint>();
      for (const c of q.claims.all(account)) {
        const key = `${c.batch_id}/${c.token}`;
        claimed.set(key, (claimed.get(key) ?? 0n) + BigInt(c.amount));
      }
      return q.earnings.all(account).map((r) => {
        const batchId = r.batch_id as string;
        const token = r.token as string;
        const weight = BigInt(r.weight as string);
        const totalWeight = BigInt(r.total_weight as string);
        const releasedTotal = BigInt(r.released_total as string);
        const paid = claimed.get(`${batchId}/${token}`) ?? 0n;
        const due = shareOf(releasedTotal, weight, totalWeight);
        return {
          batchId,
          cooperativeId: r.cooperative_id as number,
          productCode: r.product_code as string,
          lotCode: r.lot_code as string,
          token,
          weight: weight.toString(),
          totalWeight: totalWeight.toString(),
          releasedTotal: releasedTotal.toString(),
          claimed: paid.toString(),
          claimable: (due > paid ? due - paid : 0n).toString(),
        };
      });
    },

    counts() {
      const out: Record<string, number> = {};
      for (const table of INDEX_TABLES) {
        if (table === "ix_state") continue;
        out[table.replace(/^ix_/, "")] =
          db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n ?? 0;
      }
      return out;
    },
  };
}
