/**
 * What the verify page states about a batch, computed once and rendered twice: as HTML and as JSON.
 * The states the reader must not miss (a revoked or expired certification, a sale under dispute) are
 * computed here, not in the templates.
 */
import type { LotPayouts } from "../services/payouts";
import type { ReferenceRate } from "../index/payoutQueries";
import type { BatchDetail, CertificationRow, SaleDetail } from "../index";
import type { DeploymentFile } from "../chain/deploy";
import { digitalLinkPath } from "../../domain/gs1";
import type { ChainCheck } from "./chainCheck";
import type { BatchLabel } from "./lookup";
import type { TokenInfo, TokenLookup } from "./tokens";

export type CertificationState = "valid" | "expired" | "revoked";

export type Confirmed = Extract<ChainCheck, { ok: true }>;

export interface VerifyModel {
  batch: BatchDetail;
  check: Confirmed;
  certificationStates: Map<number, CertificationState>;
  /** Sales with an open dispute (not yet settled by an arbiter). */
  disputedSales: number[];
  tokens: Map<string, TokenInfo>;
  /** How the lot's members were paid by their cooperative (naming nobody), when known. */
  payouts: LotPayouts | null;
  /** The latest reference rate of each currency other than the dirham the lot was sold in. */
  rates: Map<string, ReferenceRate>;
  labels: Map<string, BatchLabel>;
  /** The names of the lot's certifiers (a certifier acts in public; members are never named). */
  certifiers: Map<string, string>;
  /** The network as visitors know it (null: the page names it) and its block explorer, if any. */
  network: { name: string | null; explorerUrl: string | null; embedded: boolean };
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

export interface ModelDeps {
  publicUrl: string;
  deployment: DeploymentFile;
  /** A node anyone may use to re-check (PUBLIC_RPC_URL); null: the command leaves --rpc to the reader. */
  publicRpcUrl: string | null;
  network?: { name: string | null; explorerUrl: string | null; embedded: boolean };
  /** A certifier's public name, by address. */
  certifierName?: (address: string) => string | null;
  tokens: TokenLookup;
  labels: (ids: string[]) => Map<string, BatchLabel>;
  /** The lot's payouts summary (services.payouts.lotSummary). */
  payouts?: (cooperativeId: number, accounts: string[]) => LotPayouts;
  /** The latest reference rate of a currency (services.payouts.latestRate). */
  rate?: (currency: string) => ReferenceRate | null;
}

/** The latest reference rate of each currency, other than the dirham (and ether), the tokens are in. */
export function ratesOf(
  tokens: Map<string, TokenInfo>,
  rate: (currency: string) => ReferenceRate | null,
): Map<string, ReferenceRate> {
  const rates = new Map<string, ReferenceRate>();
  for (const t of tokens.values()) {
    const r = t.currency && t.currency !== "MAD" && t.currency !== "ETH" ? rate(t.currency) : null;
    if (r) rates.set(t.currency!, r);
  }
  return rates;
}

export async function buildVerifyModel(batch: BatchDetail, check: Confirmed, deps: ModelDeps): Promise<VerifyModel> {
  const now = check.checkedAt / 1000;
  const tokens = new Map<string, TokenInfo>();
  for (const address of new Set(batch.sales.map((s) => s.token))) tokens.set(address, await deps.tokens(address));
  const base = deps.publicUrl.replace(/\/+$/, "");
  const dl = digitalLinkPath(batch.gtin, batch.lotCode);
  const rates = deps.rate ? ratesOf(tokens, deps.rate) : new Map<string, ReferenceRate>();
  const accounts = batch.contributors.map((x) => x.account);
  return {
    batch,
    check,
    payouts: deps.payouts && accounts.length > 0 ? deps.payouts(batch.cooperativeId, accounts) : null,
    rates,
    certificationStates: new Map(batch.certifications.map((c) => [c.certificationId, certificationState(c, now)])),
    disputedSales: batch.sales.filter(isUnderDispute).map((s) => s.saleId),
    tokens,
    labels: deps.labels([...batch.parents, ...batch.children].map((l) => l.batchId)),
    certifiers: certifierNames(batch, deps.certifierName),
    network: deps.network ?? { name: null, explorerUrl: null, embedded: false },
    contracts: Object.entries(deps.deployment.contracts).map(([name, c]) => ({
      name,
      address: c.address,
      blockNumber: c.blockNumber,
    })),
    verifyCommand: verifyCommandOf(base, batch.batchId, deps.deployment.chainId, deps.publicRpcUrl),
    links: {
      page: `${base}/b/${batch.batchId}`,
      digitalLink: dl === null ? null : base + dl,
      json: `${base}/api/v1/batches/${batch.batchId}`,
    },
  };
}

/**
 * The command that re-checks the lot from a node alone. It names the page (the CLI reads the batch id
 * from it), the deployment file the page lists, and, when there is one to publish, a public node; never
 * the gateway's own node, whose URL may be a loopback address or hold an API key.
 */
export function verifyCommandOf(base: string, batchId: string, chainId: number, publicRpcUrl: string | null): string {
  const rpc = publicRpcUrl === null ? "" : ` --rpc ${publicRpcUrl}`;
  return `npx cooptrace verify ${base}/b/${batchId}${rpc} --deployment ${chainId}.json`;
}

function certifierNames(batch: BatchDetail, nameOf: ((address: string) => string | null) | undefined) {
  const names = new Map<string, string>();
  if (nameOf === undefined) return names;
  for (const c of batch.certifications) {
    const name = nameOf(c.certifier);
    if (name !== null) names.set(c.certifier.toLowerCase(), name);
  }
  return names;
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
    // The rates the page's dirham equivalents were computed at (rate × 10⁶, its date in Unix seconds, source).
    referenceRates: Object.fromEntries(
      [...m.rates].map(([currency, r]) => [currency, { rateE6: r.rateE6, asOf: r.asOf, source: r.source }]),
    ),
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
