/**
 * Configuration: read once at start from the environment (and `.env`), validated with zod. A bad
 * or missing variable stops the start with a message that names it.
 */
import path from "node:path";
// The amount is checked by the schema below (digits, at most 18 decimals), where viem and ethers agree.
import { parseEther } from "viem";
import { z } from "zod";

const hexKey = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 32 bytes of hex (64 hex digits, optional 0x)");

function intBetween(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
}

const schema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce
      .number({ error: "must be a port number (0 to 65535)" })
      .int("must be a port number (0 to 65535)")
      .min(0, "must be a port number (0 to 65535)")
      .max(65_535, "must be a port number (0 to 65535)")
      .default(8080),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATA_DIR: z.string().min(1).default("./data"),
    PUBLIC_URL: z.url().optional(),
    RPC_URL: z.url().optional(),
    /** The network's name as visitors know it, on the verify page ("Base", "Réseau des coopératives"). */
    NETWORK_NAME: z.string().trim().min(1).max(60).optional(),
    /** A block explorer of the network (e.g. https://basescan.org): the verify page links its proofs there. */
    EXPLORER_URL: z.url().optional(),
    /** A JSON-RPC URL anyone may use to re-check (never one holding an API key): the verify command names it. */
    PUBLIC_RPC_URL: z.url().optional(),
    CHAIN_ID: z.coerce
      .number({ error: "must be a positive integer" })
      .int("must be a positive integer")
      .positive("must be a positive integer")
      .optional(),
    RELAYER_KEY: hexKey.optional(),
    DEPLOYER_KEY: hexKey.optional(),
    KEYSTORE_KEY: hexKey.optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    CONFIRMATIONS: z.coerce
      .number({ error: "must be an integer from 0 to 64" })
      .int("must be an integer from 0 to 64")
      .min(0, "must be an integer from 0 to 64")
      .max(64, "must be an integer from 0 to 64")
      .default(0),
    RELAYER_MAX_BATCH: intBetween(1, 200).default(20),
    RELAYER_MAX_IN_FLIGHT: intBetween(1, 64).default(4),
    RELAYER_REPLACE_AFTER_SECONDS: intBetween(1, 86_400).default(30),
    RELAYER_STALL_SECONDS: intBetween(1, 86_400).default(120),
    RELAYER_MIN_BALANCE: z
      .string()
      .regex(/^\d{1,9}(\.\d{1,18})?$/, "must be an amount of ether such as 0.01")
      .default("0.01"),
    USER_WRITES_PER_MINUTE: intBetween(1, 100_000).default(60),
    USER_DAILY_GAS: intBetween(100_000, 1_000_000_000_000).default(100_000_000),
    AUTH_FAILURES_PER_MINUTE: intBetween(1, 100_000).default(20),
    SESSION_TTL_HOURS: intBetween(1, 24 * 30).default(12),
    SESSION_IDLE_MINUTES: intBetween(1, 24 * 60).default(30),
    IDEMPOTENCY_TTL_HOURS: intBetween(1, 24 * 365).default(24),
    /** Allows the embedded chain with NODE_ENV=production (a demo kiosk, never real money). */
    ALLOW_EMBEDDED_CHAIN: z.enum(["true", "false"]).default("false"),
  })
  .superRefine((env, ctx) => {
    if (env.RPC_URL !== undefined) {
      for (const name of ["CHAIN_ID", "RELAYER_KEY"] as const) {
        if (env[name] === undefined)
          ctx.addIssue({ code: "custom", path: [name], message: "is required with RPC_URL" });
      }
    }
    // The platform's transactions never go out with the relayer's key: the relayer counts its nonces in
    // its own database, and a transaction it did not send would break that sequence.
    const bare = (key: string | undefined) => key?.replace(/^0x/, "").toLowerCase();
    if (env.DEPLOYER_KEY !== undefined && bare(env.DEPLOYER_KEY) === bare(env.RELAYER_KEY)) {
      ctx.addIssue({ code: "custom", path: ["DEPLOYER_KEY"], message: "must not be the RELAYER_KEY" });
    }
    if (env.NODE_ENV === "production") {
      if (env.KEYSTORE_KEY === undefined) {
        ctx.addIssue({ code: "custom", path: ["KEYSTORE_KEY"], message: "is required when NODE_ENV=production" });
      }
      if (env.RPC_URL === undefined && env.ALLOW_EMBEDDED_CHAIN !== "true") {
        ctx.addIssue({
          code: "custom",
          path: ["RPC_URL"],
          message: "is required when NODE_ENV=production (or set ALLOW_EMBEDDED_CHAIN=true for a demo)",
        });
      }
    }
  });

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string | undefined;
  /** Undefined: the gateway starts its embedded chain. */
  rpcUrl: string | undefined;
  /** What visitors are told of the network (the verify page's "check it yourself"). */
  network: { name: string | undefined; explorerUrl: string | undefined; publicRpcUrl: string | undefined };
  chainId: number | undefined;
  relayerKey: string | undefined;
  deployerKey: string | undefined;
  keystoreKey: string | undefined;
  logLevel: string;
  confirmations: number;
  relayer: {
    /** Forward requests per executeBatch transaction. */
    maxBatch: number;
    /** Relayer transactions pending at once. */
    maxInFlight: number;
    /** A transaction not mined after this many ms is replaced with higher fees. */
    replaceAfterMs: number;
    /** Below this balance (wei) the relayer refuses new requests with 503 relayer_low_balance. */
    minBalanceWei: bigint;
    /** Pending requests this old while the chain moves on and nothing settles: /health answers 503. */
    stallAfterMs: number;
  };
  /** What one user may spend; and how much guessing one address may do. */
  limits: {
    /** Writes per user and minute: every POST under /api/v1 made with a token counts. */
    userWritesPerMinute: number;
    /** Gas the relayer pays per user and UTC day (the forwarded gas limit of each request counts). */
    userDailyGas: bigint;
    /** Failed tokens, logins and PINs per client address and minute before 429. */
    authFailuresPerMinute: number;
  };
  sessions: {
    /** A browser session ends this long after sign-in, whatever happens. */
    ttlMs: number;
    /** ... or after this long without a request. */
    idleMs: number;
  };
  /** Idempotency records are forgotten after this long. */
  idempotencyTtlMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment. Throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `PORT=` in a .env file means "not set", not 0 (which would pick a random port) or an invalid URL.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? "?"), message: issue.message })),
    );
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ""),
    rpcUrl: e.RPC_URL,
    network: {
      name: e.NETWORK_NAME,
      explorerUrl: e.EXPLORER_URL?.replace(/\/+$/, ""),
      publicRpcUrl: e.PUBLIC_RPC_URL,
    },
    chainId: e.CHAIN_ID,
    relayerKey: e.RELAYER_KEY,
    deployerKey: e.DEPLOYER_KEY,
    keystoreKey: e.KEYSTORE_KEY,
    logLevel: e.LOG_LEVEL,
    confirmations: e.CONFIRMATIONS,
    relayer: {
      maxBatch: e.RELAYER_MAX_BATCH,
      maxInFlight: e.RELAYER_MAX_IN_FLIGHT,
      replaceAfterMs: e.RELAYER_REPLACE_AFTER_SECONDS * 1000,
      minBalanceWei: parseEther(e.RELAYER_MIN_BALANCE),
      stallAfterMs: e.RELAYER_STALL_SECONDS * 1000,
    },
    limits: {
      userWritesPerMinute: e.USER_WRITES_PER_MINUTE,
      userDailyGas: BigInt(e.USER_DAILY_GAS),
      authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    },
    sessions: { ttlMs: e.SESSION_TTL_HOURS * 3_600_000, idleMs: e.SESSION_IDLE_MINUTES * 60_000 },
    idempotencyTtlMs: e.IDEMPOTENCY_TTL_HOURS * 3_600_000,
  };
}
