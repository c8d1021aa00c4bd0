/**
 * The services, built once by the composition root (server/main.ts) from explicit dependencies. The
 * API routes, the public, audit and workspace pages and the CLI call these; none of them reaches the
 * database, the node, the relayer or custody on its own.
 */
import { escrowViews } from "../chain/accounts";
import type { ChainClient } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import type { MemberCardStore } from "../custody/memberCards";
import type { UserStore } from "../custody/users";
import type { Indexer, Queries } from "../index";
import type { Logger } from "../log";
import type { Relayer } from "../relayer";
import type { SessionStore } from "../sessions";
import type { FaucetGrants } from "../store/faucet";
import { createCardService, type CardService } from "./cards";
import { createBatchService, type BatchService } from "./batches";
import { createCooperativeService, type CooperativeService } from "./cooperatives";
import { createLabelService, type LabelService } from "./labels";
import { labelWords } from "../labels/words";
import { createUserService, type ChainAccount, type ForwarderReads, type UserService } from "./users";
import { createWriter, type Writer } from "./writes";
import { createAuditService, type AuditService } from "./audit";
import { createSaleService, type SaleService } from "./sales";
import { createStatsService, type StatsService } from "./stats";
import { createNetworkService, type NetworkService } from "./network";
import { createOperationService, type OperationService } from "./operations";

/** A token's symbol and decimals (ETH for the zero address), remembered once known. */
export type TokenInfoLookup = (
  address: string,
) => Promise<{ address: string; symbol: string; decimals: number; currency?: string | null }>;
import type { PayoutQueries } from "../index/payoutQueries";
import { createPayoutService, type PayoutService } from "./payouts";

export interface ServiceDeps {
  users: UserStore;
  queries: Queries;
  /** The read model of payouts, settlement tokens and reference rates (issue 13). */
  payoutQueries: PayoutQueries;
  relayer: Relayer;
  indexer: Indexer;
  deployment: DeploymentFile;
  writeTimeoutMs: number;
  /** The gateway's public URL (known once the server listens). */
  publicUrl: () => string;
  /** Member cards (PIN sign-in) and the browser sessions a revoked card ends. */
  cards: MemberCardStore;
  sessions: Pick<SessionStore, "revokeAllForUser">;
  /** The forwarder's reads, for self-custody members. */
  forwarder: ForwarderReads;
  /** The platform's own account (DEPLOYER_KEY), never the relayer's; undefined: no platform writes. */
  platform: ChainAccount | undefined;
  /** Embedded demo chain only. */
  faucet?: { account: ChainAccount; stablecoin: string; money?: { MAD: string; EUR: string }; grants: FaucetGrants };
  /** The node: buyers' own payments, the escrow's views, block times. */
  client: ChainClient;
  /** The node's JSON-RPC URL, read by the audits' chain reader (the verifier's own client). */
  rpcUrl: string;
  /** The chain the node serves (checked against the node at start). */
  chainId: number;
  tokenInfo: TokenInfoLookup;
  log: Logger;
}

export interface Services {
  writer: Writer;
  cooperatives: CooperativeService;
  cards: CardService;
  batches: BatchService;
  labels: LabelService;
  users: UserService;
  sales: SaleService;
  audit: AuditService;
  stats: StatsService;
  /** An operation's progress, for its owner. */
  operations: OperationService;
  /** Where the gateway stands against the chain (health, the pages' chain check). */
  network: NetworkService;
  /** Symbols and decimals of the tokens sales are priced in (one cache for every page). */
  tokens: TokenInfoLookup;
  /**
   * The read model (server/index/queries.ts): the index's public facts as they are, without the
   * services' not-found errors or caller checks (the public pages, lookups by GTIN and lot, the market).
   */
  reads: Queries;
  payouts: PayoutService;
}

export function createServices(deps: ServiceDeps): Services {
  const writer = createWriter({
    relayer: deps.relayer,
    indexer: deps.indexer,
    deployment: deps.deployment,
    writeTimeoutMs: deps.writeTimeoutMs,
  });
  const cards = createCardService({
    cards: deps.cards,
    users: deps.users,
    queries: deps.queries,
    sessions: deps.sessions,
    publicUrl: deps.publicUrl,
  });
  return {
    writer,
    cards,
    cooperatives: createCooperativeService({
      users: deps.users,
      queries: deps.queries,
      writer,
      cards,
      deployment: deps.deployment,
      publicUrl: deps.publicUrl,
    }),
    batches: createBatchService({
      users: deps.users,
      queries: deps.queries,
      writer,
      deployment: deps.deployment,
      publicUrl: deps.publicUrl,
    }),
    labels: createLabelService({ queries: deps.queries, publicUrl: deps.publicUrl, words: labelWords }),
    users: createUserService({
      users: deps.users,
      sessions: deps.sessions,
      writer,
      deployment: deps.deployment,
      forwarder: deps.forwarder,
      platform: deps.platform,
      faucet: deps.faucet,
    }),
    sales: createSaleService({
      users: deps.users,
      queries: deps.queries,
      writer,
      indexer: deps.indexer,
      deployment: deps.deployment,
      client: deps.client,
    }),
    audit: createAuditService({
      index: deps.queries,
      users: deps.users,
      deployment: deps.deployment,
      escrow: escrowViews(deps.client, deps.deployment.contracts.SaleEscrow.address),
      rpcUrl: deps.rpcUrl,
      client: deps.client,
      publicUrl: deps.publicUrl,
    }),
    stats: createStatsService({
      snapshot: () => deps.queries.statsSnapshot(),
      indexPosition: () => deps.queries.indexPosition(),
      tokenInfo: deps.tokenInfo,
      log: deps.log,
    }),
    operations: createOperationService({ relayer: deps.relayer }),
    network: createNetworkService({
      chainId: deps.chainId,
      client: deps.client,
      deployment: deps.deployment,
      indexer: deps.indexer,
      relayer: deps.relayer,
    }),
    tokens: deps.tokenInfo,
    reads: deps.queries,
    payouts: createPayoutService({ ...deps, writer, payouts: deps.payoutQueries }),
  };
}
