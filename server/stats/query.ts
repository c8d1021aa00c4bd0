/**
 * The rows the regional figures are computed from: read by the read model (server/index/read/stats.ts).
 */
export type {
  StatsSnapshot,
  StatsCooperative as CooperativeRow,
  StatsMember as MemberRow,
  StatsBatch as BatchRow,
  StatsRelease as ReleaseRow,
} from "../index";
