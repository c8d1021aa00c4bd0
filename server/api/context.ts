/**
 * What the routes need, passed in from the composition root (server/main.ts). No module-level state.
 */
import type { ChainClient } from "../chain/client";
import type { Db } from "../store/db";
import type { Logger } from "../log";
import type { Config } from "../config";
import type { Services } from "../services";
import type { UserStore, User } from "../custody/users";
import type { Relayer } from "../relayer";
import type { Indexer, Queries } from "../index";
import type { DeploymentFile } from "../chain/deploy";

export interface GatewayContext {
  /** The service layer: what routes and pages call (the rest of this context is on its way out). */
  services: Services;
  log: Logger;
  db: Db;
  client: ChainClient;
  deployment: DeploymentFile;
  users: UserStore;
  relayer: Relayer;
  indexer: Indexer;
  queries: Queries;
  publicUrl: string;
  embedded: boolean;
  rpcUrl: string;
  chainId: number;
  /** Seconds a write waits for its receipt before answering 202. */
  writeTimeoutMs: number;
  /** Per-user limits, sessions and idempotency expiry, from the configuration. */
  limits: Config["limits"];
  sessions: Config["sessions"];
  idempotencyTtlMs: number;
  /** True when PUBLIC_URL is https (HSTS is sent only then). */
  https: boolean;
}

declare module "express-serve-static-core" {
  interface Request {
    user?: User;
  }
}
