/**
 * What the verify page states about a batch, computed once and rendered twice: as HTML and as JSON.
 * The states the reader must not miss (a revoked or expired certification, a sale under dispute) are
 * computed here, not in the templates.
 */
import type { BatchDetail, CertificationRow, SaleDetail } from "../index";
import type { DeploymentFile } from "../chain/deploy";
import { digitalLinkPath } from "../../domain/gs1";
import type { ChainCheck } from "./chainCheck";
import type { BatchLabel } from "./lookup";
import type { TokenInfo, TokenLookup } from "./tokens";
import { convertible, type RateView } from "./views/money";

export type CertificationState = "valid" | "expired" | "revoked";

export type Confirmed = Extract<ChainCheck, { ok: true }>;

export interface VerifyModel {
  batch: BatchDetail;
  check: Confirmed;
  certificationStates: Map<number, CertificationState>;
  /** Sales with an open dispute (not yet settled by an arbiter). */
  disputedSales: number[];
  tokens: Map<string, TokenInfo>;
  /** The latest reference rate of each currency the sales are in (other than the dirham), when recorded. */
  rates: Map<string, RateView>;
  /** What the lot's members were paid by the cooperative, counted and summed (null: not known here). */
  payouts: LotPayoutsView | null;
  labels: Map<string, BatchLabel>;
  contracts: { name: string; address: string; blockNumber: number }[];
  verifyCommand: string;
  links: { page: string; digitalLink: string | null; json: string };
}

export function certificationState(c: CertificationRow, nowSeconds: number): CertificationState {
  if (c.revoked) return "revoked";
  return BigInt(c.validUntil) > BigInt(Math.floor(nowSeconds)) ? "valid" : "expired";
}

export function isUnderDispute(s: SaleDetail): boolean {
  return s.state === "Disputed";
}

/** server/services/payouts.ts LotPayouts: the lot's contributors, those who confirmed, what remains per token. */
export interface LotPayoutsView {
  members: number;
  confirmed: number;
  remaining: { token: string; currency: string; decimals: number; amount: string }[];
}

/** The payouts read the verify page needs (server/services/payouts.ts), public and naming nobody. */
export interface PagePayouts {
  referenceRate(currency: string): RateView | null;
  lotPayouts(cooperativeId: number, contributors: readonly string[]): LotPayoutsView;
}

export interface ModelDeps {
  publicUrl: string;
  deployment: DeploymentFile;
  /** The node the verifier should use when it is public (the embedded demo chain); else a placeholder. */
  publicRpcUrl: string | null;
  tokens: TokenLookup;
  labels: (ids: string[]) => Map<string, BatchLabel>;
  /** Reference rates and the lot's payouts; without it, no dirham equivalent and no payouts sentence. */
  payouts?: PagePayouts;
}

export async function buildVerifyModel(batch: BatchDetail, check: Confirmed, deps: ModelDeps): Promise<VerifyModel> {
  const now = check.checkedAt / 1000;
  const tokens = new Map<string, TokenInfo>();
  for (const address of new Set(batch.sales.map((s) => s.token))) tokens.set(address, await deps.tokens(address));
  const contributors = batch.contributors.map((c) => c.account);
  const payouts = deps.payouts?.lotPayouts(batch.cooperativeId, contributors) ?? null;
  const rates = new Map<string, RateView>();
  for (const t of [...tokens.values(), ...(payouts?.remaining ?? [])]) {
    const rate = convertible(t) ? (deps.payouts?.referenceRate(t.currency) ?? null) : null;
    if (rate !== null) rates.set(t.currency!, { rateE6: rate.rateE6, asOf: rate.asOf, source: rate.source });
  }
  const base = deps.publicUrl.replace(/\/+$/, "");
  const dl = digitalLinkPath(batch.gtin, batch.lotCode);
  return {
    batch,
    check,
    certificationStates: new Map(batch.certifications.map((c) => [c.certificationId, certificationState(c, now)])),
    disputedSales: batch.sales.filter(isUnderDispute).map((s) => s.saleId),
    tokens,
    rates,
    payouts,
    labels: deps.labels([...batch.parents, ...batch.children].map((l) => l.batchId)),
    contracts: Object.entries(deps.deployment.contracts).map(([name, c]) => ({
      name,
      address: c.address,
      blockNumber: c.blockNumber,
    })),
    verifyCommand: `npx cooptrace verify ${batch.batchId} --rpc ${deps.publicRpcUrl ?? "<rpc url>"} --deployment ${deps.deployment.chainId}.json`,
    links: {
      page: `${base}/b/${batch.batchId}`,
      digitalLink: dl === null ? null : base + dl,
      json: `${base}/api/v1/batches/${batch.batchId}`,
    },
  };
}

/** The JSON form: the batch as the read model has it, plus what the page computed and how to check it. */
export function toJson(m: VerifyModel): Record<string, unknown> {
  return {
    ...m.batch,
    states: {
      underDispute: m.disputedSales.length > 0,
      disputedSales: m.disputedSales,
      certifications: m.batch.certifications.map((c) => ({
        certificationId: c.certificationId,
        state: m.certificationStates.get(c.certificationId),
      })),
    },
    tokens: Object.fromEntries(
      [...m.tokens].map(([a, t]) => [a, { symbol: t.symbol, decimals: t.decimals, currency: t.currency ?? null }]),
    ),
    referenceRates: Object.fromEntries(m.rates),
    payouts: m.payouts,
    verification: {
      confirmed: true,
      chainId: m.check.chainId,
      head: m.check.head,
      indexedBlock: m.check.indexedBlock,
      checkedAt: new Date(m.check.checkedAt).toISOString(),
      contracts: Object.fromEntries(
        m.contracts.map((c) => [c.name, { address: c.address, blockNumber: c.blockNumber }]),
      ),
      command: m.verifyCommand,
    },
    links: m.links,
  };
}
