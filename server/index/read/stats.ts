/**
 * The regional figures' reads: one snapshot per call (a read transaction), months in UTC from each
 * row's block_time; and where the index stands (the last block read, rows per table).
 */
import type { Db } from "../../store/db";
import { INDEX_TABLES } from "../schema";

export interface StatsCooperative {
  cooperativeId: number;
  region: string;
  womenLed: boolean;
  /** Unix seconds of the registration. */
  since: number;
}

export interface StatsMember {
  cooperativeId: number;
  account: string;
  since: number;
  /** Unix seconds of the removal, null while a member. */
  until: number | null;
}

export interface StatsBatch {
  batchId: string;
  cooperativeId: number;
  productCode: string;
  quantity: string;
  unit: string;
  month: string;
}

export interface StatsRelease {
  saleId: number;
  batchId: string;
  cooperativeId: number;
  productCode: string;
  token: string;
  gross: string;
  net: string;
  month: string;
}

export interface StatsSnapshot {
  lastBlock: number | null;
  cooperatives: StatsCooperative[];
  members: StatsMember[];
  /** Registered (harvested) batches only: splits and merges move existing quantities. */
  batches: StatsBatch[];
  /** Released payments (a sale's confirmation, its timeout or a dispute ruling). */
  releases: StatsRelease[];
  /** Contributor accounts of every batch above (registered and sold), by batch id. */
  contributors: Map<string, string[]>;
  /** Lots made from others (a split, a merge: rose water distilled from petals), with the month made. */
  derived?: StatsBatch[];
  /** Each derived lot's parent lots (lineage), by child id. */
  parents?: Map<string, string[]>;
}

interface BatchRowOf {
  batch_id: string;
  cooperative_id: number;
  product_code: string;
  quantity: string;
  unit: string;
  month: string;
}

/** A lot's row as the figures read it (harvested and made lots alike). */
function batchOf(r: BatchRowOf): StatsBatch {
  return {
    batchId: r.batch_id,
    cooperativeId: r.cooperative_id,
    productCode: r.product_code,
    quantity: r.quantity,
    unit: r.unit,
    month: r.month,
  };
}

const MONTH = `strftime('%Y-%m', block_time, 'unixepoch')`;

export interface StatsReads {
  /** Everything the regional figures are computed from, read in one transaction. */
  statsSnapshot(): StatsSnapshot;
}

export function createStatsReads(db: Db): StatsReads {
  const state = db.prepare<[], { last_block: number | null }>(`SELECT last_block FROM ix_state WHERE id = 1`);
  const cooperatives = db.prepare<
    [],
    { cooperative_id: number; region: string; women_led: number; block_time: number }
  >(`SELECT cooperative_id, region, women_led, block_time FROM ix_cooperatives ORDER BY cooperative_id`);
  const members = db.prepare<
    [],
    { cooperative_id: number; account: string; block_time: number; removed_block_time: number | null }
  >(`SELECT cooperative_id, account, block_time, removed_block_time FROM ix_members`);
  const batches = db.prepare<
    [],
    { batch_id: string; cooperative_id: number; product_code: string; quantity: string; unit: string; month: string }
  >(
    `SELECT batch_id, cooperative_id, product_code, quantity, unit, ${MONTH} AS month
       FROM ix_batches WHERE kind = 'registered'`,
  );
  const releases = db.prepare<
    [],
    {
      sale_id: number;
      batch_id: string;
      cooperative_id: number;
      product_code: string;
      token: string;
      gross: string;
      net: string;
      month: string;
    }
  >(
    `SELECT r.sale_id, r.batch_id, s.cooperative_id, b.product_code, r.token, r.gross, r.net,
            strftime('%Y-%m', r.block_time, 'unixepoch') AS month
       FROM ix_releases r
       JOIN ix_sales s ON s.sale_id = r.sale_id
       JOIN ix_batches b ON b.batch_id = r.batch_id`,
  );
  const derived = db.prepare<
    [],
    { batch_id: string; cooperative_id: number; product_code: string; quantity: string; unit: string; month: string }
  >(
    `SELECT batch_id, cooperative_id, product_code, quantity, unit, ${MONTH} AS month
       FROM ix_batches WHERE kind <> 'registered'`,
  );
  const lineage = db.prepare<[], { parent_id: string; child_id: string }>(`SELECT parent_id, child_id FROM ix_lineage`);
  const contributors = db.prepare<[], { batch_id: string; account: string }>(
    `SELECT c.batch_id, c.account FROM ix_batch_contributors c
      WHERE c.batch_id IN (SELECT batch_id FROM ix_batches WHERE kind = 'registered'
                           UNION SELECT batch_id FROM ix_releases
                           UNION SELECT child_id FROM ix_lineage)`,
  );

  const read = db.transaction((): StatsSnapshot => {
    const byBatch = new Map<string, string[]>();
    for (const c of contributors.all()) {
      let list = byBatch.get(c.batch_id);
      if (list === undefined) byBatch.set(c.batch_id, (list = []));
      list.push(c.account);
    }
    return {
      lastBlock: state.get()?.last_block ?? null,
      cooperatives: cooperatives.all().map((r) => ({
        cooperativeId: r.cooperative_id,
        region: r.region,
        womenLed: r.women_led !== 0,
        since: r.block_time,
      })),
      members: members.all().map((r) => ({
        cooperativeId: r.cooperative_id,
        account: r.account,
        since: r.block_time,
        until: r.removed_block_time,
      })),
      batches: batches.all().map(batchOf),
      releases: releases.all().map((r) => ({
        saleId: r.sale_id,
        batchId: r.batch_id,
        cooperativeId: r.cooperative_id,
        productCode: r.product_code,
        token: r.token,
        gross: r.gross,
        net: r.net,
        month: r.month,
      })),
      contributors: byBatch,
      derived: derived.all().map(batchOf),
      parents: lineage
        .all()
        .reduce((m, l) => m.set(l.child_id, [...(m.get(l.child_id) ?? []), l.parent_id]), new Map<string, string[]>()),
    };
  });
  return { statsSnapshot: () => read.deferred() };
}

export interface StateReads {
  /** The last block the index has read (null before its first sync): the figures change only when it moves. */
  indexPosition(): number | null;
  /** Rows per index table (for the reindex CLI and health). */
  counts(): Record<string, number>;
}

export function createStateReads(db: Db): StateReads {
  const state = db.prepare<[], { last_block: number | null }>(`SELECT last_block FROM ix_state WHERE id = 1`);
  return {
    indexPosition: () => state.get()?.last_block ?? null,
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
