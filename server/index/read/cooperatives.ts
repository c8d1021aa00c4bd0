/**
 * Cooperatives and their members, as the index knows them.
 */
import type { Db } from "../../store/db";
import { columns, factColumns, pageOf, takeLaterChain, withChain, type LaterFactsRow, type RowOf } from "./rows";
import type { Cooperative, CooperativeChange, CooperativeDetail, Member, Page, PageOptions } from "./types";

export interface CooperativeReads {
  listCooperatives(options?: PageOptions): Page<Cooperative>;
  getCooperative(cooperativeId: number): CooperativeDetail | null;
  /** The cooperative's own row (no batch count, no changes); null when unknown. */
  cooperativeById(cooperativeId: number): Cooperative | null;
  listMembers(cooperativeId: number): Member[];
  /**
   * What `account` is in `cooperativeId` as far as the index knows: "admin", "member" or null;
   * undefined when the cooperative is unknown. For fast pre-checks; the contracts decide.
   */
  standingIn(cooperativeId: number, account: string): "admin" | "member" | null | undefined;
  /** The cooperative whose admin is `address` per the index, if any (the lowest id). */
  cooperativeOfAdmin(address: string): number | null;
  /** The account index of `address` (given when it first joined a cooperative), or null if it never did. */
  accountIndexOf(address: string): number | null;
}

/** SQLite's 0/1 where the answer has a boolean; a change's values as stored (TEXT). */
type CooperativeRow = RowOf<Omit<Cooperative, "womenLed">> & { womenLed: number };
type ChangeRow = RowOf<Omit<CooperativeChange, "previous" | "value">> & { previous: string; value: string };
type MemberRow = RowOf<Omit<Member, "active" | "removed">> & { active: number } & LaterFactsRow<"removed_">;

const COOPERATIVE_SELECT = `
  SELECT ${columns<Cooperative>(["cooperativeId", "name", "region", "registrationNumber", "admin", "reserveBps", "womenLed"])},
    (SELECT COUNT(*) FROM ix_members m WHERE m.cooperative_id = ix_cooperatives.cooperative_id AND m.active = 1) AS memberCount
  FROM ix_cooperatives`;

export const cooperativeOf = (row: CooperativeRow): Cooperative => withChain(row, { womenLed: row.womenLed === 1 });

/** A reserve rate's values are basis points (numbers); an admin change's are addresses. */
function changeOf(row: ChangeRow): CooperativeChange {
  const reserve = row.kind === "reserve";
  return withChain(row, {
    previous: reserve ? Number(row.previous) : row.previous,
    value: reserve ? Number(row.value) : row.value,
  });
}

function memberOf(row: MemberRow): Member {
  const [member, removed] = takeLaterChain(row, "removed_");
  return { ...withChain(member, { active: member.active === 1 }), removed };
}

export function createCooperativeReads(db: Db): CooperativeReads {
  const q = {
    admin: db.prepare<[number], { admin: string }>("SELECT admin FROM ix_cooperatives WHERE cooperative_id = ?"),
    activeMember: db.prepare<[number, string], { one: number }>(
      "SELECT 1 AS one FROM ix_members WHERE cooperative_id = ? AND lower(account) = ? AND active = 1",
    ),
    count: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM ix_cooperatives"),
    accountIndex: db.prepare<[string], { account_index: number }>(
      "SELECT account_index FROM ix_accounts WHERE lower(account) = ?",
    ),
    page: db.prepare<[number, number], CooperativeRow>(
      `${COOPERATIVE_SELECT} ORDER BY cooperative_id LIMIT ? OFFSET ?`,
    ),
    one: db.prepare<[number], CooperativeRow>(`${COOPERATIVE_SELECT} WHERE cooperative_id = ?`),
    batchCount: db.prepare<[number], { n: number }>("SELECT COUNT(*) AS n FROM ix_batches WHERE cooperative_id = ?"),
    changes: db.prepare<[number], ChangeRow>(
      `SELECT ${columns<CooperativeChange>(["kind", "previous", "value"])} FROM ix_cooperative_changes
       WHERE cooperative_id = ? ORDER BY block_number, log_index`,
    ),
    members: db.prepare<[number], MemberRow>(
      `SELECT ${columns<Member>(["cooperativeId", "account", "referenceHash", "active"])}, ${factColumns("removed_")}
       FROM ix_members WHERE cooperative_id = ? ORDER BY block_number, log_index`,
    ),
    ofAdmin: db.prepare<[string], { cooperative_id: number }>(
      "SELECT cooperative_id FROM ix_cooperatives WHERE lower(admin) = lower(?) ORDER BY cooperative_id LIMIT 1",
    ),
  };

  const cooperativeById = (cooperativeId: number) => {
    const row = q.one.get(cooperativeId);
    return row === undefined ? null : cooperativeOf(row);
  };

  return {
    accountIndexOf(address) {
      return q.accountIndex.get(address.toLowerCase())?.account_index ?? null;
    },
    listCooperatives(options) {
      const { limit, offset } = pageOf(options);
      return { items: q.page.all(limit, offset).map(cooperativeOf), total: q.count.get()?.n ?? 0, limit, offset };
    },

    getCooperative(cooperativeId) {
      const coop = cooperativeById(cooperativeId);
      if (coop === null) return null;
      return {
        ...coop,
        batchCount: q.batchCount.get(cooperativeId)?.n ?? 0,
        changes: q.changes.all(cooperativeId).map(changeOf),
      };
    },

    cooperativeById,

    listMembers: (cooperativeId) => q.members.all(cooperativeId).map(memberOf),

    standingIn(cooperativeId, account) {
      const coop = q.admin.get(cooperativeId);
      if (coop === undefined) return undefined;
      if (coop.admin.toLowerCase() === account.toLowerCase()) return "admin";
      return q.activeMember.get(cooperativeId, account.toLowerCase()) !== undefined ? "member" : null;
    },

    cooperativeOfAdmin: (address) => q.ofAdmin.get(address)?.cooperative_id ?? null,
  };
}
