/**
 * The read model's answers: plain, JSON-ready objects for the API, the pages and the audits. Amounts,
 * quantities and weights are exact decimal strings; ids, basis points and times are numbers; every
 * on-chain fact comes with `chain` (tx hash, block, log index, block time) so a reader can check it.
 */
import type { SaleState } from "../project";

export type { SaleState };

export interface ChainRef {
  txHash: string;
  blockNumber: number;
  logIndex: number;
  blockTime: number;
}

export interface PageOptions {
  limit?: number;
  offset?: number;
}

export interface Page<T> {
  items: T[];
  /** Matching rows in all pages. */
  total: number;
  limit: number;
  offset: number;
}

export interface Cooperative {
  cooperativeId: number;
  name: string;
  region: string;
  registrationNumber: string;
  admin: string;
  reserveBps: number;
  womenLed: boolean;
  /** Active members. */
  memberCount: number;
  chain: ChainRef;
}

export interface CooperativeChange {
  kind: "admin" | "reserve";
  /** Addresses for an admin change; basis points for a reserve rate change. */
  previous: string | number;
  value: string | number;
  chain: ChainRef;
}

export interface CooperativeDetail extends Cooperative {
  batchCount: number;
  changes: CooperativeChange[];
}

export interface Member {
  cooperativeId: number;
  account: string;
  referenceHash: string;
  active: boolean;
  chain: ChainRef;
  removed: ChainRef | null;
}

export interface Batch {
  batchId: string;
  cooperativeId: number;
  kind: "registered" | "split" | "merge";
  registeredBy: string;
  productCode: string;
  /** GTIN-14 as a decimal string, "0" when the product has none. */
  gtin: string;
  lotCode: string;
  quantity: string;
  unit: string;
  origin: string;
  productionDate: number;
  metadataHash: string;
  contributorsRoot: string;
  totalWeight: string;
  /** For a split child: the batch whose registration emitted the contributors it shares. */
  contributorsFrom: string | null;
  drawn: string;
  available: string;
  chain: ChainRef;
}

export interface BatchEventRow {
  bizStep: string;
  location: string;
  eventTime: number;
  documentHash: string;
  recordedBy: string;
  chain: ChainRef;
}

export interface CertificationRow {
  certificationId: number;
  certifier: string;
  scheme: string;
  certificateHash: string;
  /** uint64 unix seconds as a decimal string (may exceed 2^53). */
  validUntil: string;
  revoked: boolean;
  revocation: { certifier: string; reasonHash: string; chain: ChainRef } | null;
  chain: ChainRef;
}

export interface LineageLink {
  batchId: string;
  kind: "split" | "merge";
  quantity: string;
  actor: string;
  chain: ChainRef;
}

export interface QuantityChange {
  kind: "drawn" | "restored";
  quantity: string;
  drawnTotal: string;
  chain: ChainRef;
}

export interface BatchDetail extends Batch {
  cooperative: Cooperative | null;
  contributors: { account: string; weight: string }[];
  events: BatchEventRow[];
  certifications: CertificationRow[];
  parents: LineageLink[];
  children: LineageLink[];
  quantityChanges: QuantityChange[];
  sales: SaleDetail[];
}

export interface Sale {
  saleId: number;
  batchId: string;
  cooperativeId: number;
  seller: string;
  /** The zero address for an open offer not yet funded. */
  buyer: string;
  /** The zero address for ETH. */
  token: string;
  price: string;
  quantity: string;
  feeBps: number;
  reserveBps: number;
  shippingPeriod: number;
  disputeWindow: number;
  state: SaleState;
  fundedAmount: string | null;
  fundedAt: number | null;
  shipBy: number | null;
  shippedAt: number | null;
  shipmentDocumentHash: string | null;
  disputeUntil: number | null;
  chain: ChainRef;
}

export interface Release {
  gross: string;
  fee: string;
  reserve: string;
  net: string;
  /** The batch's cumulative net in this token after this release. */
  releasedTotal: string;
  chain: ChainRef;
}

export interface Refund {
  buyer: string;
  amount: string;
  chain: ChainRef;
}

export interface Dispute {
  buyer: string;
  reasonHash: string;
  chain: ChainRef;
  resolution: { arbiter: string; refundBps: number; rulingHash: string; chain: ChainRef } | null;
}

export type SaleStep =
  "created" | "funded" | "shipped" | "confirmed" | "released" | "disputed" | "resolved" | "cancelled" | "refunded";

export interface SaleDetail extends Sale {
  releases: Release[];
  refunds: Refund[];
  dispute: Dispute | null;
  /** Every transaction of the sale, in chain order. */
  steps: { step: SaleStep; actor: string | null; chain: ChainRef }[];
}

export interface Balance {
  batchId: string;
  cooperativeId: number;
  productCode: string;
  lotCode: string;
  token: string;
  weight: string;
  totalWeight: string;
  releasedTotal: string;
  claimed: string;
  /** ⌊releasedTotal × weight / totalWeight⌋ − claimed, as the escrow computes it. */
  claimable: string;
}

/** Short label of a batch, for links to it. */
export interface BatchLabel {
  batchId: string;
  productCode: string;
  lotCode: string;
  unit: string;
}

/** An open offer of the market, with what a buyer chooses by. */
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

/** A lot found by the home page's product search. */
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

/** A claim as the index recorded it, for the audits' comparison with the chain. */
export interface IndexClaim {
  batchId: string;
  token: string;
  account: string;
  amount: bigint;
  weight: bigint;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}
