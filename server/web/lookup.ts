/**
 * The reads of the home page's product search and of the workspace that the shared read model does not
 * offer: lots by lot code and/or GTIN, and the cooperative a manager runs. Plain SQL over the index
 * tables, prepared once, bounded (a search lists at most FIND_LIMIT lots).
 */
import type { Db } from "../store/db";

/** Lots a search lists at most: more means the code is too vague to pick from a list. */
export const FIND_LIMIT = 20;

export interface FoundLot {
  batchId: string;
  cooperativeId: number;
  cooperativeName: string;
  productCode: string;
  /** GTIN-14 as a decimal string, "0" when the product has none. */
  gtin: string;
  lotCode: string;
  productionDate: number;
}

export interface WebLookups {
  /**
   * Lots whose code is `lot` (any letter case: people type what they read) and, when given, whose
   * GTIN is `gtin`; or every lot of `gtin` when no lot is given. Oldest first, at most FIND_LIMIT + 1
   * (the extra one says "there are more").
   */
  findLots(query: { lot?: string; gtin?: bigint }): FoundLot[];
  /** A lot's GTIN ("0" when it has none or is unknown), for its public link. */
  gtinOf(batchId: string): string;
  /** The cooperative whose admin is `address` per the index, if any. */
  cooperativeOfAdmin(address: string): number | null;
}

type Row = Record<string, unknown>;

const COLUMNS = `b.batch_id, b.cooperative_id, c.name AS cooperative_name, b.product_code, b.gtin, b.lot_code, b.production_date
  FROM ix_batches b JOIN ix_cooperatives c ON c.cooperative_id = b.cooperative_id`;
const ORDER = `ORDER BY b.block_number, b.log_index LIMIT ${FIND_LIMIT + 1}`;

export function createWebLookups(db: Db): WebLookups {
  const byLot = db.prepare<[string], Row>(`SELECT ${COLUMNS} WHERE b.lot_code = ? COLLATE NOCASE ${ORDER}`);
  const byLotGtin = db.prepare<[string, string], Row>(
    `SELECT ${COLUMNS} WHERE b.gtin = ? AND b.lot_code = ? COLLATE NOCASE ${ORDER}`,
  );
  // The Digital Link index (gtin, lot_code, …) serves both GTIN searches.
  const byGtin = db.prepare<[string], Row>(`SELECT ${COLUMNS} WHERE b.gtin = ? ${ORDER}`);
  const admin = db.prepare<[string], { cooperative_id: number }>(
    "SELECT cooperative_id FROM ix_cooperatives WHERE lower(admin) = lower(?) ORDER BY cooperative_id LIMIT 1",
  );

  const gtin = db.prepare<[string], { gtin: string }>("SELECT gtin FROM ix_batches WHERE batch_id = ?");

  const toLot = (r: Row): FoundLot => ({
    batchId: r.batch_id as string,
    cooperativeId: r.cooperative_id as number,
    cooperativeName: r.cooperative_name as string,
    productCode: r.product_code as string,
    gtin: r.gtin as string,
    lotCode: r.lot_code as string,
    productionDate: r.production_date as number,
  });

  return {
    findLots({ lot, gtin }) {
      // Stored without leading zeros, as the index keeps GTINs.
      const g = gtin === undefined ? undefined : gtin.toString();
      const rows =
        lot !== undefined && g !== undefined
          ? byLotGtin.all(g, lot)
          : lot !== undefined
            ? byLot.all(lot)
            : g !== undefined
              ? byGtin.all(g)
              : [];
      return rows.map(toLot);
    },
    gtinOf(batchId) {
      return gtin.get(batchId)?.gtin ?? "0";
    },
    cooperativeOfAdmin(address) {
      return admin.get(address)?.cooperative_id ?? null;
    },
  };
}
