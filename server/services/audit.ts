/**
 * Audits, for auditors and the platform admin: a sale's split recomputed from the chain and compared
 * with the index, a cooperative's sales and payouts over a period, both also as CSV, and a sale's
 * reconciliation pack. The builders are in server/audit/; this is the one entry point the API and the
 * audit pages call. Each call reads the chain afresh (facts read at one block, memoized for that call).
 */
import type { ChainClient } from "../chain/client";
import { z } from "zod";
import type { DeploymentFile } from "../chain/deploy";
import type { User, UserStore } from "../custody/users";
import { createChainReader } from "../audit/chain";
import { buildCooperativeAudit, cooperativePayoutRows, type CooperativeAudit } from "../audit/cooperative";
import { PAYOUT_COLUMNS, salePayoutRows, toCsv } from "../audit/csv";
import type { IndexView } from "../audit/indexView";
import { buildSalePack, type SalePack } from "../audit/pack";
import { buildSaleAudit, type AuditDeps, type EscrowViews, type SaleAudit } from "../audit/sale";
import { requireRole } from "./access";
import { DomainError } from "./errors";
import { paging } from "./schemas";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** An ISO date (start of that day, UTC) or date-time, as unix seconds; `endOfDay` for a date-only `to`. */
function isoInstant(endOfDay: boolean) {
  return z
    .string()
    .refine((s) => /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) && !Number.isNaN(Date.parse(s)), "must be an ISO 8601 date")
    .transform((s) => {
      const ms = Date.parse(s);
      return Math.floor((DATE_ONLY.test(s) && endOfDay ? ms + 86_400_000 - 1 : ms) / 1000);
    });
}

/** A period (from, to: ISO dates, both inclusive) and a page of its sales and claims. */
export const auditPeriodInput = paging.extend({
  from: isoInstant(false).optional(),
  to: isoInstant(true).optional(),
});
export type AuditPeriodInput = z.output<typeof auditPeriodInput>;

/** A CSV export: UTF-8 with BOM, every text cell guarded against formula injection (server/audit/csv.ts). */
export interface CsvFile {
  filename: string;
  csv: string;
}

export interface AuditService {
  sale(actor: User | undefined, saleId: number): Promise<SaleAudit>;
  /** The sale's payouts: one row per contributor share and per claim. */
  saleCsv(actor: User | undefined, saleId: number): Promise<CsvFile>;
  cooperative(actor: User | undefined, cooperativeId: number, input: AuditPeriodInput): Promise<CooperativeAudit>;
  /** The payouts of the page of the period given by limit and offset. */
  cooperativeCsv(actor: User | undefined, cooperativeId: number, input: AuditPeriodInput): Promise<CsvFile>;
  /** The audit, the contributors with Merkle proofs, the EPCIS history, the deployment file, the verifier command. */
  salePack(actor: User | undefined, saleId: number): Promise<SalePack>;
}

export interface AuditServiceDeps {
  /** What the index says (the read model), compared with the chain. */
  index: IndexView;
  users: Pick<UserStore, "findByAddress">;
  deployment: DeploymentFile;
  /** The escrow's views, read at the node's head. */
  escrow: EscrowViews;
  /** The node the chain facts are read from (by the verifier's own JSON-RPC client), and block times. */
  rpcUrl: string;
  client: Pick<ChainClient, "getBlock">;
  publicUrl: () => string;
}

const AUDITORS = ["auditor", "platform_admin"] as const;

export function createAuditService(deps: AuditServiceDeps): AuditService {
  /** A new chain reader per call: facts are read at one block, memoized for this call only. */
  const auditDeps = (): AuditDeps => ({
    index: deps.index,
    users: deps.users,
    escrow: deps.escrow,
    chain: createChainReader({ deployment: deps.deployment, rpcUrl: deps.rpcUrl, client: deps.client }),
  });

  async function cooperative(actor: User | undefined, cooperativeId: number, input: AuditPeriodInput) {
    requireRole(actor, ...AUDITORS);
    if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
      throw new DomainError("invalid", "invalid_field", "from is after to", {
        errors: [{ field: "from", message: "must not be after to" }],
      });
    }
    return buildCooperativeAudit(auditDeps(), cooperativeId, {
      from: input.from ?? null,
      to: input.to ?? null,
      limit: input.limit,
      offset: input.offset,
    });
  }

  async function sale(actor: User | undefined, saleId: number) {
    requireRole(actor, ...AUDITORS);
    return buildSaleAudit(auditDeps(), saleId);
  }

  return {
    sale,
    async saleCsv(actor, saleId) {
      const audit = await sale(actor, saleId);
      return { filename: `sale-${saleId}.csv`, csv: toCsv(PAYOUT_COLUMNS, salePayoutRows(audit)) };
    },
    cooperative,
    async cooperativeCsv(actor, cooperativeId, input) {
      const audit = await cooperative(actor, cooperativeId, input);
      return { filename: `cooperative-${cooperativeId}.csv`, csv: toCsv(PAYOUT_COLUMNS, cooperativePayoutRows(audit)) };
    },
    async salePack(actor, saleId) {
      requireRole(actor, ...AUDITORS);
      return buildSalePack({ ...auditDeps(), deployment: deps.deployment, publicUrl: deps.publicUrl() }, saleId);
    },
  };
}
