/**
 * Sales in escrow with every step, release, refund and dispute; the market's open offers.
 */
import type { Db } from "../../store/db";
import {
  columns,
  factColumns,
  filteredLists,
  normalizeBatchId,
  statementCache,
  takeLaterChain,
  withChain,
  type LaterFactsRow,
  type RowOf,
} from "./rows";
import type {
  Dispute,
  Offer,
  OfferFilter,
  Page,
  PageOptions,
  Refund,
  Release,
  Sale,
  SaleDetail,
  SaleState,
} from "./types";

export interface SaleReads {
  listSales(options?: PageOptions & { batchId?: string; cooperativeId?: number; state?: SaleState }): Page<Sale>;
  getSale(saleId: number): SaleDetail | null;
  /** Every sale of a batch with its details, in id order. */
  salesOfBatch(batchId: string): SaleDetail[];
  /** Sale ids of a cooperative, in id order. */
  saleIdsOf(cooperativeId: number): number[];
  /** The market: sales not yet funded, newest first, filtered by product and region. */
  openOffers(filter: OfferFilter): { items: Offer[]; total: number };
  /** The products and regions that have open offers, for the market's filters. */
  offerChoices(): { products: string[]; regions: string[] };
}

type SaleRow = RowOf<Sale>;
type ReleaseRow = RowOf<Release>;
type RefundRow = RowOf<Refund>;
type StepRow = RowOf<SaleDetail["steps"][number]>;
/** The ruling's columns are set together with the resolved_ facts (server/index/project.ts). */
type DisputeRow = RowOf<Omit<Dispute, "resolution">> & {
  arbiter: string | null;
  refundBps: number | null;
  rulingHash: string | null;
} & LaterFactsRow<"resolved_">;

/** An offer's row: the columns of Offer, in its order, women_led as SQLite's 0/1. */
type OfferRow = Omit<Offer, "womenLed"> & { womenLed: number };

const SALE_COLUMNS = columns<Sale>([
  "saleId",
  "batchId",
  "cooperativeId",
  "seller",
  "buyer",
  "token",
  "price",
  "quantity",
  "feeBps",
  "reserveBps",
  "shippingPeriod",
  "disputeWindow",
  "state",
  "fundedAmount",
  "fundedAt",
  "shipBy",
  "shippedAt",
  "shipmentDocumentHash",
  "disputeUntil",
]);

const SALE_LIST = { table: "ix_sales", select: SALE_COLUMNS, orderBy: "sale_id" };

export const saleOf = (row: SaleRow): Sale => withChain(row);

function disputeOf(row: DisputeRow): Dispute {
  const [{ arbiter, refundBps, rulingHash, ...dispute }, resolved] = takeLaterChain(row, "resolved_");
  return {
    ...withChain(dispute),
    resolution:
      resolved === null ? null : { arbiter: arbiter!, refundBps: refundBps!, rulingHash: rulingHash!, chain: resolved },
  };
}

const OPEN = "s.state = 'Created'";

/** The market's offers: each filter combination is a statement of its own, prepared once. */
function offerStatements(db: Db) {
  const prepared = statementCache(db);
  return (filter: OfferFilter) => {
    const where = [OPEN];
    if (filter.productCode !== undefined) where.push("b.product_code = @productCode");
    if (filter.region !== undefined) where.push("c.region = @region");
    const from = `FROM ix_sales s
        JOIN ix_batches b ON b.batch_id = s.batch_id
        JOIN ix_cooperatives c ON c.cooperative_id = s.cooperative_id
        WHERE ${where.join(" AND ")}`;
    return {
      page: prepared<OfferRow>(
        `SELECT s.sale_id AS saleId, s.batch_id AS batchId, s.quantity, s.price, s.token, s.buyer,
                b.product_code AS productCode, b.lot_code AS lotCode, b.unit, c.cooperative_id AS cooperativeId,
                c.name AS cooperativeName, c.region, c.women_led AS womenLed
         ${from} ORDER BY s.sale_id DESC LIMIT @limit OFFSET @offset`,
      ),
      count: prepared<{ n: number }>(`SELECT COUNT(*) AS n ${from}`),
    };
  };
}

export function createSaleReads(db: Db): SaleReads {
  const list = filteredLists(db);
  const q = {
    ofBatch: db.prepare<[string], SaleRow>(`SELECT ${SALE_COLUMNS} FROM ix_sales WHERE batch_id = ? ORDER BY sale_id`),
    one: db.prepare<[number], SaleRow>(`SELECT ${SALE_COLUMNS} FROM ix_sales WHERE sale_id = ?`),
    idsOf: db.prepare<[number], { sale_id: number }>(
      "SELECT sale_id FROM ix_sales WHERE cooperative_id = ? ORDER BY sale_id",
    ),
    releases: db.prepare<[number], ReleaseRow>(
      `SELECT ${columns<Release>(["gross", "fee", "reserve", "net", "releasedTotal"])} FROM ix_releases
       WHERE sale_id = ? ORDER BY block_number, log_index`,
    ),
    refunds: db.prepare<[number], RefundRow>(
      `SELECT ${columns<Refund>(["buyer", "amount"])} FROM ix_refunds WHERE sale_id = ? ORDER BY block_number, log_index`,
    ),
    dispute: db.prepare<[number], DisputeRow>(
      `SELECT ${columns<Dispute>(["buyer", "reasonHash"])}, arbiter, refund_bps AS refundBps, ruling_hash AS rulingHash,
              ${factColumns("resolved_")}
       FROM ix_disputes WHERE sale_id = ?`,
    ),
    steps: db.prepare<[number], StepRow>(
      `SELECT ${columns<StepRow>(["step", "actor"])} FROM ix_sale_steps WHERE sale_id = ? ORDER BY block_number, log_index`,
    ),
    products: db.prepare<[], { v: string }>(
      `SELECT DISTINCT b.product_code AS v FROM ix_sales s JOIN ix_batches b ON b.batch_id = s.batch_id WHERE ${OPEN} ORDER BY v`,
    ),
    regions: db.prepare<[], { v: string }>(
      `SELECT DISTINCT c.region AS v FROM ix_sales s JOIN ix_cooperatives c ON c.cooperative_id = s.cooperative_id WHERE ${OPEN} ORDER BY v`,
    ),
  };
  const offers = offerStatements(db);

  function saleDetail(row: SaleRow): SaleDetail {
    const sale = saleOf(row);
    const dispute = q.dispute.get(sale.saleId);
    return {
      ...sale,
      releases: q.releases.all(sale.saleId).map((r) => withChain(r)),
      refunds: q.refunds.all(sale.saleId).map((r) => withChain(r)),
      dispute: dispute === undefined ? null : disputeOf(dispute),
      steps: q.steps.all(sale.saleId).map((r) => withChain(r)),
    };
  }

  return {
    listSales(options) {
      const filters = {
        batch_id: options?.batchId === undefined ? undefined : normalizeBatchId(options.batchId),
        cooperative_id: options?.cooperativeId,
        state: options?.state,
      };
      const { rows, ...page } = list<SaleRow>(SALE_LIST, filters, options);
      return { items: rows.map(saleOf), ...page };
    },

    getSale(saleId) {
      const row = q.one.get(saleId);
      return row === undefined ? null : saleDetail(row);
    },

    salesOfBatch: (batchId) => q.ofBatch.all(normalizeBatchId(batchId)).map(saleDetail),

    saleIdsOf: (cooperativeId) => q.idsOf.all(cooperativeId).map((r) => r.sale_id),

    openOffers(filter) {
      const st = offers(filter);
      const named: Record<string, string> = {};
      if (filter.productCode !== undefined) named.productCode = filter.productCode;
      if (filter.region !== undefined) named.region = filter.region;
      const rows = st.page.all({ ...named, limit: filter.limit, offset: filter.offset });
      const count = Object.keys(named).length === 0 ? st.count.get() : st.count.get(named);
      return { total: count?.n ?? 0, items: rows.map((r) => ({ ...r, womenLed: r.womenLed === 1 })) };
    },

    offerChoices: () => ({ products: q.products.all().map((r) => r.v), regions: q.regions.all().map((r) => r.v) }),
  };
}
