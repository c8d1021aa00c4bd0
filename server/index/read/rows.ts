/**
 * What the read model's areas share: rows selected in the shape of their answers (`columns`: each
 * column under the answer's camelCase name, then the chain facts every index row carries), the facts
 * gathered under `chain` (`withChain`, `takeLaterChain`), paging, and filtered lists whose statements
 * are prepared once per combination of filters. Booleans stay SQLite's 0/1 and big integers decimal
 * TEXT in rows; the areas convert the first.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "../../store/db";
import type { ChainRef, PageOptions } from "./types";

/** Largest page any list returns. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** The chain facts of the log that made a row (every index table has them). */
export interface FactsRow {
  tx_hash: string;
  block_number: number;
  log_index: number;
  block_time: number;
}

/** The facts of a later step of the same row (a removal, a revocation, a ruling): null until it happens. */
export type LaterFactsRow<P extends string> = { [K in `${P}tx_hash`]: string | null } & {
  [K in `${P}block_number` | `${P}log_index` | `${P}block_time`]: number | null;
};

/** A row read in an answer's shape: its fields under their own names (see `columns`), and the chain facts. */
export type RowOf<T> = Omit<T, "chain"> & FactsRow;

const FACTS = ["tx_hash", "block_number", "log_index", "block_time"] as const;

/** The SELECT list of the chain facts under `prefix` (a later step's: removed_, revoked_, resolved_). */
export function factColumns(prefix = ""): string {
  return FACTS.map((f) => `${prefix}${f}`).join(", ");
}

/**
 * A SELECT list that reads each column under the answer's own camelCase name (reserve_bps AS reserveBps),
 * then the chain facts: a row comes out in the answer's shape and key order, and `withChain` finishes it.
 */
export function columns<T>(names: readonly (Exclude<keyof T, "chain"> & string)[]): string {
  const aliased = names.map((name) => {
    const column = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return column === name ? name : `${column} AS ${name}`;
  });
  return `${aliased.join(", ")}, ${factColumns()}`;
}

/** The row as an answer: its chain facts gathered under `chain`, last, after the fields `before` adds or replaces. */
export function withChain<R extends FactsRow, E extends object = Record<never, never>>(
  row: R,
  before?: E,
): Omit<Omit<R, keyof FactsRow>, keyof E> & E & { chain: ChainRef } {
  const { tx_hash, block_number, log_index, block_time, ...rest } = row;
  const chain = { txHash: tx_hash, blockNumber: block_number, logIndex: log_index, blockTime: block_time };
  // TypeScript does not compute the type of a spread of generic objects; this is its value.
  return { ...rest, ...before, chain } as Omit<Omit<R, keyof FactsRow>, keyof E> & E & { chain: ChainRef };
}

/**
 * Takes the chain facts under `prefix` out of `row`: the row without them, and the facts, or null
 * while that step has not happened (the projector sets the four together).
 */
export function takeLaterChain<P extends string, R extends LaterFactsRow<P>>(
  row: R,
  prefix: P,
): [Omit<R, keyof LaterFactsRow<P>>, ChainRef | null] {
  const rest: Record<string, unknown> = { ...row };
  const [txHash, blockNumber, logIndex, blockTime] = FACTS.map((f) => {
    const value = rest[`${prefix}${f}`];
    delete rest[`${prefix}${f}`];
    return value;
  });
  // The loop above removed exactly the keys of LaterFactsRow<P>.
  const others = rest as Omit<R, keyof LaterFactsRow<P>>;
  if (typeof txHash !== "string" || typeof blockNumber !== "number") return [others, null];
  if (typeof logIndex !== "number" || typeof blockTime !== "number") return [others, null];
  return [others, { txHash, blockNumber, logIndex, blockTime }];
}

/** A page's limit and offset, clamped to 1..MAX_PAGE_SIZE and ≥ 0 (NaN and infinities fall back to defaults). */
export function pageOf(options: PageOptions | undefined): { limit: number; offset: number } {
  const limit = Math.floor(options?.limit ?? DEFAULT_PAGE_SIZE);
  const offset = Math.floor(options?.offset ?? 0);
  return {
    limit: Number.isFinite(limit) ? Math.min(Math.max(limit, 1), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE,
    offset: Number.isFinite(offset) ? Math.max(offset, 0) : 0,
  };
}

/** Batch ids are stored lowercase. */
export function normalizeBatchId(batchId: string): string {
  return batchId.toLowerCase();
}

/** A statement per distinct SQL text, prepared on first use: for lists whose WHERE depends on the filters given. */
export function statementCache(db: Db) {
  const cache = new Map<string, Statement<unknown[], unknown>>();
  return function prepared<Row>(sql: string): Statement<unknown[], Row> {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare<unknown[], unknown>(sql);
      cache.set(sql, stmt);
    }
    return stmt as Statement<unknown[], Row>;
  };
}

/** A list of one table: its SELECT list and order. */
export interface ListSpec {
  table: string;
  select: string;
  orderBy: string;
}

/**
 * Pages of a table's rows matching every given filter (`column = ?`; undefined filters are left out),
 * with how many match in all. Each combination of filters is a statement of its own, prepared once.
 */
export function filteredLists(db: Db) {
  const prepared = statementCache(db);
  return function list<Row>(
    spec: ListSpec,
    filters: Record<string, string | number | undefined>,
    options: PageOptions | undefined,
  ): { rows: Row[]; total: number; limit: number; offset: number } {
    const { limit, offset } = pageOf(options);
    const given = Object.entries(filters).filter((e): e is [string, string | number] => e[1] !== undefined);
    const clause = given.length > 0 ? `WHERE ${given.map(([column]) => `${column} = ?`).join(" AND ")}` : "";
    const params = given.map(([, value]) => value);
    const total = prepared<{ n: number }>(`SELECT COUNT(*) AS n FROM ${spec.table} ${clause}`).get(...params);
    const rows = prepared<Row>(
      `SELECT ${spec.select} FROM ${spec.table} ${clause} ORDER BY ${spec.orderBy} LIMIT ? OFFSET ?`,
    ).all(...params, limit, offset);
    return { rows, total: total?.n ?? 0, limit, offset };
  };
}
