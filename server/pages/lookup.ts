/**
 * The few reads the pages need that the shared read model does not offer: a batch by GTIN and lot
 * (Digital Link), short labels of linked batches, and the open offers of the market with their
 * filters. Plain SQL over the index tables, prepared once.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "../store/db";

export interface BatchLabel {
  batchId: string;
  productCode: string;
  lotCode: string;
  unit: string;
}

export interface Offer {
  saleId: number;
  batchId: string;
  quantity: string;
  price: string;
  token: string;
  buyer: string;
  productCode: string;
  lotCode: string;
  unit: string;
  cooperativeId: number;
  cooperativeName: string;
  region: string;
  womenLed: boolean;
}

export interface OfferFilter {
  productCode?: string;
  region?: string;
  limit: number;
  offset: number;
}

export interface PageLookups {
  /** The first batch registered with this GTIN (as a decimal string without leading zeros) and lot. */
  batchByGtinLot(gtin: bigint, lotCode: string): string | null;
  labels(batchIds: string[]): Map<string, BatchLabel>;
  openOffers(filter: OfferFilter): { items: Offer[]; total: number };
  offerChoices(): { products: string[]; regions: string[] };
}

type Row = Record<string, unknown>;

const OPEN = "s.state = 'Created'";

export function createPageLookups(db: Db): PageLookups {
  const byGtinLot = db.prepare<[string, string], { batch_id: string }>(
    "SELECT batch_id FROM ix_batches WHERE gtin = ? AND lot_code = ? ORDER BY block_number, log_index LIMIT 1",
  );
  const label = db.prepare<[string], Row>(
    "SELECT batch_id, product_code, lot_code, unit FROM ix_batches WHERE batch_id = ?",
  );
  const products = db.prepare<[], { v: string }>(
    `SELECT DISTINCT b.product_code AS v FROM ix_sales s JOIN ix_batches b ON b.batch_id = s.batch_id WHERE ${OPEN} ORDER BY v`,
  );
  const regions = db.prepare<[], { v: string }>(
    `SELECT DISTINCT c.region AS v FROM ix_sales s JOIN ix_cooperatives c ON c.cooperative_id = s.cooperative_id WHERE ${OPEN} ORDER BY v`,
  );
  const statements = new Map<string, { page: Statement<unknown[], Row>; count: Statement<unknown[], Row> }>();
  function offersSql(filter: OfferFilter) {
    const where = [OPEN];
    if (filter.productCode !== undefined) where.push("b.product_code = @productCode");
    if (filter.region !== undefined) where.push("c.region = @region");
    const key = where.join(" AND ");
    let st = statements.get(key);
    if (st === undefined) {
      const from = `FROM ix_sales s
        JOIN ix_batches b ON b.batch_id = s.batch_id
        JOIN ix_cooperatives c ON c.cooperative_id = s.cooperative_id
        WHERE ${key}`;
      st = {
        page: db.prepare<unknown[], Row>(
          `SELECT s.sale_id, s.batch_id, s.quantity, s.price, s.token, s.buyer, b.product_code, b.lot_code, b.unit,
                  c.cooperative_id, c.name, c.region, c.women_led
           ${from} ORDER BY s.sale_id DESC LIMIT @limit OFFSET @offset`,
        ),
        count: db.prepare<unknown[], Row>(`SELECT COUNT(*) AS n ${from}`),
      };
      statements.set(key, st);
    }
    return st;
  }

  return {
    batchByGtinLot(gtin, lotCode) {
      return byGtinLot.get(gtin.toString(), lotCode)?.batch_id ?? null;
    },

    labels(batchIds) {
      const out = new Map<string, BatchLabel>();
      for (const id of new Set(batchIds)) {
        const r = label.get(id.toLowerCase());
        if (r !== undefined)
          out.set(id, {
            batchId: r.batch_id as string,
            productCode: r.product_code as string,
            lotCode: r.lot_code as string,
            unit: r.unit as string,
          });
      }
      return out;
    },

    openOffers(filter) {
      const st = offersSql(filter);
      const named: Record<string, unknown> = {};
      if (filter.productCode !== undefined) named.productCode = filter.productCode;
      if (filter.region !== undefined) named.region = filter.region;
      const rows = st.page.all({ ...named, limit: filter.limit, offset: filter.offset });
      const count = Object.keys(named).length === 0 ? st.count.get() : st.count.get(named);
      const total = (count?.n as number | undefined) ?? 0;
      return {
        total,
        items: rows.map((r) => ({
          saleId: r.sale_id as number,
          batchId: r.batch_id as string,
          quantity: r.quantity as string,
          price: r.price as string,
          token: r.token as string,
          buyer: r.buyer as string,
          productCode: r.product_code as string,
          lotCode: r.lot_code as string,
          unit: r.unit as string,
          cooperativeId: r.cooperative_id as number,
          cooperativeName: r.name as string,
          region: r.region as string,
          womenLed: r.women_led === 1,
        })),
      };
    },

    offerChoices() {
      return { products: products.all().map((r) => r.v), regions: regions.all().map((r) => r.v) };
    },
  };
}
