/**
 * The services, built once by the composition root (server/main.ts) from explicit dependencies. The
 * API routes, the workspace pages and the CLI call these; none of them reaches the database, the
 * provider or custody on its own.
 */
import { escrowViews } from "../chain/accounts";
import type { ChainClient } from "../chain/client";
import { createIndexView } from "../audit/indexView";
import type { DeploymentFile } from "../chain/deploy";
import type { MemberCardStore } from "../custody/memberCards";
import type { UserStore } from "../custody/users";
import type { Indexer, Queries } from "../index";
import type { Logger } from "../log";
import type { Relayer } from "../relayer";
import { createIndexPosition, createStatsQueries } from "../stats/query";
import type { Db } from "../store/db";
import type { SessionStore } from "../sessions";
import type { FaucetGrants } from "../store/faucet";
import { createCardService, type CardService } from "./cards";
import { createBatchService, type BatchService } from "./batches";
import { createCooperativeService, type CooperativeService } from "./cooperatives";
import { createLabelService, type LabelService } from "./labels";
import { createUserService, type ChainAccount, type ForwarderReads, type UserService } from "./users";
import { createWriter, type Writer } from "./writes";
import { createAuditService, type AuditService } from "./audit";
import { createSaleService, type SaleService } from "./sales";
import { createStatsService, type StatsService } from "./stats";
import { createPayoutQueries } from "../index/payoutQueries";
import { createPayoutService, type PayoutService } from "./payouts";

export interface ServiceDeps {
  users: UserStore;
  queries: Queries;
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
  faucet?: { account: ChainAccount; stablecoin: string; grants: FaucetGrants };
  /** The node: buyers' own payments, the escrow's views, block times. */
  client: ChainClient;
  /** The node's JSON-RPC URL, read by the audits' chain reader (the verifier's own client). */
  rpcUrl: string;
  /** The index tables the audits and the regional figures read with their own SQL. */
  db: Db;
  /** A token's symbol and decimals, remembered once known. */
  tokenInfo: (address: string) => Promise<{ symbol: string; decimals: number }>;
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
    labels: createLabelService({ queries: deps.queries, publicUrl: deps.publicUrl }),
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
      queries: deps.queries,
      users: deps.users,
      index: createIndexView(deps.db),
      deployment: deps.deployment,
      escrow: escrowViews(deps.client, deps.deployment.contracts.SaleEscrow.address),
      rpcUrl: deps.rpcUrl,
      client: deps.client,
      publicUrl: deps.publicUrl,
    }),
    stats: createStatsService({
      snapshot: createStatsQueries(deps.db),
      indexPosition: createIndexPosition(deps.db),
      tokenInfo: deps.tokenInfo,
      log: deps.log,
    }),
    payouts: createPayoutService({ ...deps, writer, payouts: createPayoutQueries(deps.db) }),
  };
}
