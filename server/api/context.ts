/**
 * What the routes need, passed in from the composition root (server/main.ts). No module-level state.
 */
import type { JsonRpcProvider, Wallet } from "ethers";
import type { Db } from "../store/db";
import type { Logger } from "../log";
import type { UserStore, User } from "../custody/users";
import type { Relayer } from "../relayer";
import type { Indexer, Queries } from "../index";
import type { CoopTraceContracts, DeploymentFile } from "../../scripts/lib/deploy";

export interface GatewayContext {
  log: Logger;
  db: Db;
  provider: JsonRpcProvider;
  deployment: DeploymentFile;
  contracts: CoopTraceContracts;
  users: UserStore;
  relayer: Relayer;
  indexer: Indexer;
  queries: Queries;
  /** Sends the platform's own transactions (role grants, token allow-list): the deployer, DEFAULT_ADMIN on-chain. */
  platformSigner: Wallet;
  /** Embedded chain only: the faucet account and the demo stablecoin. */
  faucet?: { signer: Wallet; stablecoin: string };
  publicUrl: string;
  embedded: boolean;
  rpcUrl: string;
  chainId: number;
  /** Seconds a write waits for its receipt before answering 202. */
  writeTimeoutMs: number;
}

declare module "express-serve-static-core" {
  interface Request {
    user?: User;
  }
}
