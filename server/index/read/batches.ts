/**
 * Batches with their contributors, history, certifications, lineage and sales; lookups by GTIN and
 * lot (Digital Link, the home page's search) and short labels for links.
 */
import type { Db } from "../../store/db";
import type { CooperativeReads } from "./cooperatives";
import {
  columns,
  factColumns,
  filteredLists,
  normalizeBatchId,
  takeLaterChain,
  withChain,
  type LaterFactsRow,
  type RowOf,
} from "./rows";
import type { SaleReads } from "./sales";
import type {
  Batch,
  BatchDetail,
  BatchEventRow,
  BatchLabel,
  CertificationRow,
  FoundLot,
  LineageLink,
  Page,
  PageOptions,
  QuantityChange,
} from "./types";

/** Lots a search lists at most: more means the code is too vague to pick from a list. */
export const FIND_LIMIT = 20;

export interface BatchReads {
  listBatches(options?: PageOptions & { cooperativeId?: number; productCode?: string }): Page<Batch>;
  getBatch(batchId: string): BatchDetail | null;
  /** The first batch registered with this GTIN (as a decimal string without leading zeros) and lot. */
  batchByGtinLot(gtin: bigint, lotCode: string): string | null;
  labels(batchIds: string[]): Map<string, BatchLabel>;
  /**
   * Lots whose code is `lot` (any letter case: people type what they read) and, when given, whose
   * GTIN is `gtin`; or every lot of `gtin` when no lot is given. Oldest first, at most FIND_LIMIT + 1
   * (the extra one says "there are more").
   */
  findLots(query: { lot?: string; gtin?: bigint }): FoundLot[];
  /** A lot's GTIN ("0" when it has none or is unknown), for its public link. */
  gtinOf(batchId: string): string;
}

type BatchRow = RowOf<Omit<Batch, "available">>;
type EventRow = RowOf<BatchEventRow>;
type LinkRow = RowOf<LineageLink>;
type QuantityRow = RowOf<QuantityChange>;
/** revokedBy and revokeReasonHash are set with revoked = 1 and the revoked_ facts (server/index/project.ts). */
type CertRow = RowOf<Omit<CertificationRow, "revoked" | "revocation">> & {
  revoked: number;
  revokedBy: string | null;
  revokeReasonHash: string | null;
} & LaterFactsRow<"revoked_">;

const BATCH_COLUMNS = columns<Batch>([
  "batchId",
  "cooperativeId",
  "kind",
  "registeredBy",
  "productCode",
  "gtin",
  "lotCode",
  "quantity",
  "unit",
  "origin",
  "productionDate",
  "metadataHash",
  "contributorsRoot",
  "totalWeight",
  "contributorsFrom",
  "drawn",
]);

const BATCH_LIST = { table: "ix_batches", select: BATCH_COLUMNS, orderBy: "block_number, log_index" };

/** What is left of the batch to sell or draw: quantity − drawn. */
export const batchOf = (row: BatchRow): Batch =>
  withChain(row, { available: (BigInt(row.quantity) - BigInt(row.drawn)).toString() });

function certificationOf(row: CertRow): CertificationRow {
  const [{ revokedBy, revokeReasonHash, ...cert }, revokedAt] = takeLaterChain(row, "revoked_");
  const revoked = cert.revoked === 1;
  return withChain(cert, {
    revoked,
    revocation:
      revoked && revokedAt !== null ? { certifier: revokedBy!, reasonHash: revokeReasonHash!, chain: revokedAt } : null,
  });
}

/** A lineage link read from one side: `other` is the batch at the far end. */
const lineageSql = (other: "parent_id" | "child_id", self: "parent_id" | "child_id") =>
  `SELECT ${other} AS batchId, ${columns<LineageLink>(["kind", "quantity", "actor"])}
   FROM ix_lineage WHERE ${self} = ? ORDER BY block_number, log_index, position`;

const LOT_COLUMNS = `b.batch_id AS batchId, b.cooperative_id AS cooperativeId, c.name AS cooperativeName,
  b.product_code AS productCode, b.gtin, b.lot_code AS lotCode, b.production_date AS productionDate
  FROM ix_batches b JOIN ix_cooperatives c ON c.cooperative_id = b.cooperative_id`;
const LOT_ORDER = `ORDER BY b.block_number, b.log_index LIMIT ${FIND_LIMIT + 1}`;

/** The statements of the lookups by GTIN and lot code (the Digital Link index serves them). */
function lotStatements(db: Db) {
  return {
    byGtinLot: db.prepare<[string, string], { batch_id: string }>(
      "SELECT batch_id FROM ix_batches WHERE gtin = ? AND lot_code = ? ORDER BY block_number, log_index LIMIT 1",
    ),
    byLot: db.prepare<[string], FoundLot>(`SELECT ${LOT_COLUMNS} WHERE b.lot_code = ? COLLATE NOCASE ${LOT_ORDER}`),
    byLotGtin: db.prepare<[string, string], FoundLot>(
      `SELECT ${LOT_COLUMNS} WHERE b.gtin = ? AND b.lot_code = ? COLLATE NOCASE ${LOT_ORDER}`,
    ),
    byGtin: db.prepare<[string], FoundLot>(`SELECT ${LOT_COLUMNS} WHERE b.gtin = ? ${LOT_ORDER}`),
    gtin: db.prepare<[string], { gtin: string }>("SELECT gtin FROM ix_batches WHERE batch_id = ?"),
    label: db.prepare<[string], BatchLabel>(
      "SELECT batch_id AS batchId, product_code AS productCode, lot_code AS lotCode, unit FROM ix_batches WHERE batch_id = ?",
    ),
  };
}

export function createBatchReads(
  db: Db,
  reads: Pick<CooperativeReads, "cooperativeById"> & Pick<SaleReads, "salesOfBatch">,
): BatchReads {
  const list = filteredLists(db);
  const q = {
    one: db.prepare<[string], BatchRow>(`SELECT ${BATCH_COLUMNS} FROM ix_batches WHERE batch_id = ?`),
    contributors: db.prepare<[string], { account: string; weight: string }>(
      "SELECT account, weight FROM ix_batch_contributors WHERE batch_id = ? ORDER BY position",
    ),
    events: db.prepare<[string], EventRow>(
      `SELECT ${columns<BatchEventRow>(["bizStep", "location", "eventTime", "documentHash", "recordedBy"])}
       FROM ix_batch_events WHERE batch_id = ? ORDER BY event_time, block_number, log_index`,
    ),
    certifications: db.prepare<[string], CertRow>(
      `SELECT ${columns<CertRow>(["certificationId", "certifier", "scheme", "certificateHash", "validUntil", "revoked"])},
              revoked_by AS revokedBy, revoke_reason_hash AS revokeReasonHash, ${factColumns("revoked_")}
       FROM ix_certifications WHERE batch_id = ? ORDER BY certification_id`,
    ),
    parents: db.prepare<[string], LinkRow>(lineageSql("parent_id", "child_id")),
    children: db.prepare<[string], LinkRow>(lineageSql("child_id", "parent_id")),
    quantityChanges: db.prepare<[string], QuantityRow>(
      `SELECT ${columns<QuantityChange>(["kind", "quantity", "drawnTotal"])} FROM ix_quantity_changes
       WHERE batch_id = ? ORDER BY block_number, log_index`,
    ),
  };
  const lots = lotStatements(db);

  return {
    listBatches(options) {
      const filters = { cooperative_id: options?.cooperativeId, product_code: options?.productCode };
      const { rows, ...page } = list<BatchRow>(BATCH_LIST, filters, options);
      return { items: rows.map(batchOf), ...page };
    },

    getBatch(batchId) {
      const id = normalizeBatchId(batchId);
      const row = q.one.get(id);
      if (row === undefined) return null;
      const batch = batchOf(row);
      return {
        ...batch,
        cooperative: reads.cooperativeById(batch.cooperativeId),
        contributors: q.contributors.all(id),
        events: q.events.all(id).map((r) => withChain(r)),
        certifications: q.certifications.all(id).map(certificationOf),
        parents: q.parents.all(id).map((r) => withChain(r)),
        children: q.children.all(id).map((r) => withChain(r)),
        quantityChanges: q.quantityChanges.all(id).map((r) => withChain(r)),
        sales: reads.salesOfBatch(id),
      };
    },

    batchByGtinLot: (gtin, lotCode) => lots.byGtinLot.get(gtin.toString(), lotCode)?.batch_id ?? null,

    labels(batchIds) {
      const out = new Map<string, BatchLabel>();
      for (const id of new Set(batchIds)) {
        const label = lots.label.get(id.toLowerCase());
        if (label !== undefined) out.set(id, label);
      }
      return out;
    },

    findLots({ lot, gtin }) {
      // Stored without leading zeros, as the index keeps GTINs.
      const g = gtin === undefined ? undefined : gtin.toString();
      if (lot !== undefined && g !== undefined) return lots.byLotGtin.all(g, lot);
      if (lot !== undefined) return lots.byLot.all(lot);
      return g !== undefined ? lots.byGtin.all(g) : [];
    },

    gtinOf: (batchId) => lots.gtin.get(batchId)?.gtin ?? "0",
  };
}
