/**
 * What the HTTP layer is given by the composition root (server/main.ts): the services, a few settings,
 * the logger and the HTTP-level stores. No module-level state; nothing here reaches the database, the
 * node, the relayer or custody except through the services.
 */
import type { Logger } from "../log";
import type { Config } from "../config";
import type { Services } from "../services";
import type { User } from "../custody/users";
import type { PageSessions } from "../sessions/http";
import type { FormOnce } from "../web/forms";
import type { IdempotencyStore } from "./idempotency";

/** The settings HTTP code reads. */
export interface HttpSettings {
  /**
   * The gateway's public URL. Read on each request: when PUBLIC_URL is not set, the composition root
   * learns it once the server listens (port 0 in tests) and sets it here.
   */
  publicUrl: string;
  /** True when PUBLIC_URL is https (HSTS and Secure cookies only then). */
  https: boolean;
  /** Per-user limits, sessions and idempotency expiry, from the configuration. */
  limits: Config["limits"];
  sessions: Config["sessions"];
  idempotencyTtlMs: number;
  /** How long a write waits for its receipt before answering 202. */
  writeTimeoutMs: number;
  /** The embedded demo chain: its RPC URL is public (GET /health, the verify command). */
  embedded: boolean;
  chainId: number;
  rpcUrl: string;
  /** The network's name for visitors: NETWORK_NAME, else a known chain's name, else null (the page names it). */
  networkName: string | null;
  /** EXPLORER_URL without its trailing slash, or null. */
  explorerUrl: string | null;
  /** PUBLIC_RPC_URL, or null: the verify command then leaves the node to the reader. */
  publicRpcUrl: string | null;
}

/** Stores of the HTTP layer itself (not of the domain), built at the composition root. */
export interface HttpStores {
  /** Idempotency-Key records of the API. */
  idempotency: IdempotencyStore;
  /** One write per form sent (the workspace's forms; the same table as the API's keys). */
  formOnce: FormOnce;
  /**
   * The browser sessions of one application (its cookie, its CSRF checks and its failed-sign-in limiter,
   * shared with the API's bearer tokens). A factory: each application built gets its own limiter.
   */
  pageSessions: () => PageSessions;
}

export interface HttpDeps {
  services: Services;
  settings: HttpSettings;
  log: Logger;
  stores: HttpStores;
}

declare module "express-serve-static-core" {
  interface Request {
    user?: User;
  }
}
