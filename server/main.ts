/**
 * The composition root: builds every part from the configuration, wires them, and starts them in
 * order (chain, deployment, database, custody, relayer, index, HTTP). Nothing else creates parts.
 */
import { createPayoutQueries } from "./index/payoutQueries";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { bytesToHex, encodeDeployData, type Hex, type LocalAccount } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import type { Config } from "./config";
import { createLogger, type Logger } from "./log";
import { ANVIL_MNEMONIC, startEmbeddedChain, type EmbeddedChain } from "./chain/embedded";
import { createChainClient, type ChainClient } from "./chain/client";
import { clientAccount, forwarderReads } from "./chain/accounts";
import { demoMoneyAbi, demoMoneyBytecode, mockStablecoinAbi, mockStablecoinBytecode } from "./chain/abis.generated";
import { sendAndWait } from "./chain/send";
import { openDatabase } from "./store/db";
import { acquireDataDirLock, secureDataDir } from "./store/lock";
import { startCheckpointer } from "./store/checkpointer";
import { resolveMasterKey } from "./custody/masterKey";
import { createKeystore } from "./custody/keystore";
import { createUserStore, custodyMigrations } from "./custody/users";
import { createRelayer, createRelayPolicy, outboxMigrations } from "./relayer";
import { createIndexer, createQueries, indexMigrations } from "./index";
import { buildApp } from "./api/app";
import { createServices } from "./services";
import { createTokenLookup } from "./pages/tokens";
import { idempotencyMigrations } from "./api/idempotency";
import { createFaucetGrants, faucetMigrations } from "./store/faucet";
import { createSessionStore, sessionMigrations } from "./sessions";
import { createMemberCardStore, memberCardMigrations } from "./custody/memberCards";
import type { HttpDeps, HttpSettings, HttpStores } from "./api/context";
import { createIdempotencyStore } from "./api/idempotency";
import { createPageSessions } from "./sessions/http";
import { createFormOnce } from "./web/forms";
import type { Services } from "./services";
import type { Db } from "./store/db";
import type { UserStore } from "./custody/users";
import type { Relayer } from "./relayer";
import { networkNameOf } from "./chain/networks";
import type { Indexer, Queries } from "./index";
import type { TypedDataDomain, TypedDataField } from "./relayer/types";
import {
  clientDeployer,
  deployCoopTrace,
  deploymentPath,
  readDeployment,
  writeDeployment,
  type DeploymentFile,
} from "./chain/deploy";

/**
 * Every part the composition root built, with the settings: for tests, benchmarks and scripts that look
 * inside a running gateway. Never handed to routes or pages (they get HttpDeps).
 */
export interface GatewayParts extends HttpSettings {
  services: Services;
  log: Logger;
  db: Db;
  client: ChainClient;
  deployment: DeploymentFile;
  users: UserStore;
  relayer: Relayer;
  indexer: Indexer;
  queries: Queries;
}

export interface Gateway {
  url: string;
  server: Server;
  /** The gateway's parts (tests and scripts read them). */
  ctx: GatewayParts;
  /** What the gateway's application was built from: buildApp(gateway.http) builds another like it. */
  http: HttpDeps;
  adminTokenFile: string;
  /** True when this start created the platform admin (first start of this data folder). */
  firstStart: boolean;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** The private key of anvil's funded account `index` (m/44'/60'/0'/0/index of its mnemonic). */
function anvilKey(index: number): Hex {
  return bytesToHex(mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).getHdKey().privateKey!);
}

async function ensureDeployment(
  dataDir: string,
  chainId: number,
  client: ChainClient,
  deployer: LocalAccount | undefined,
  embedded: boolean,
  log: Logger,
): Promise<DeploymentFile> {
  const file = deploymentPath(dataDir, chainId);
  if (existsSync(file)) {
    const deployment = readDeployment(file);
    const code = await client.getCode(deployment.contracts.SaleEscrow.address);
    if (code !== "0x") return deployment;
    if (!embedded) {
      throw new StartupError(
        `${file} names contracts that have no code on chain ${chainId}: wrong RPC_URL, or the chain was reset`,
      );
    }
    log.warn(
      { file },
      "the embedded chain has no code at the recorded addresses (its state was lost): deploying again",
    );
  }
  if (deployer === undefined) {
    throw new StartupError(
      `no deployment for chain ${chainId} at ${file}: set DEPLOYER_KEY to deploy, or provide the file`,
    );
  }
  // The embedded demo chain prices its sales in demo money (no value; anyone may mint): a dirham and a
  // euro e-money token of 2 decimals, and a 6-decimal dollar stablecoin, each allowed with its currency.
  let demoStablecoin: string | undefined;
  let demoMoney: DeploymentFile["demoMoney"];
  if (embedded) {
    const deploy = async (abi: typeof demoMoneyAbi | typeof mockStablecoinAbi, bytecode: Hex, args: [string, string]) =>
      (await sendAndWait(client, deployer, { data: encodeDeployData({ abi, bytecode, args }) })).contractAddress!;
    demoStablecoin = await deploy(mockStablecoinAbi, mockStablecoinBytecode, [
      "Demo Dollar Stablecoin (test only)",
      "dUSD",
    ]);
    demoMoney = {
      MAD: await deploy(demoMoneyAbi, demoMoneyBytecode, ["Demo Dirham (test only)", "dMAD"]),
      EUR: await deploy(demoMoneyAbi, demoMoneyBytecode, ["Demo Euro (test only)", "dEUR"]),
    };
  }
  const deployment = await deployCoopTrace(clientDeployer(client, deployer), {
    settlementTokens: demoMoney
      ? [
          { address: demoMoney.MAD, currency: "MAD" },
          { address: demoMoney.EUR, currency: "EUR" },
          { address: demoStablecoin!, currency: "USD" },
        ]
      : [],
  });
  const written = writeDeployment(dataDir, { ...deployment, demoStablecoin, demoMoney });
  log.info({ file: written, chainId }, "contracts deployed");
  return readDeployment(written);
}

/** The node the gateway talks to: the embedded anvil (started here) or RPC_URL, checked to be CHAIN_ID. */
async function connectChain(config: Config, log: Logger, cleanups: Cleanups) {
  const embedded = config.rpcUrl === undefined;
  let rpcUrl: string;
  let chainId: number;
  let relayerKey: Hex;
  let deployer: LocalAccount | undefined;
  if (embedded) {
    const chain: EmbeddedChain = await startEmbeddedChain({
      dataDir: config.dataDir,
      // anvil's own log (a line per JSON-RPC call) only when it will be written.
      onLog: log.isLevelEnabled("trace") ? (line) => log.trace({ anvil: line }, "anvil") : undefined,
      onWarning: (message, fields) => log.warn(fields, message),
    });
    cleanups.push(() => chain.stop());
    rpcUrl = chain.rpcUrl;
    chainId = chain.chainId;
    deployer = privateKeyToAccount(anvilKey(0));
    relayerKey = anvilKey(1);
    log.info({ rpcUrl, stateFile: chain.stateFile }, "embedded chain started");
  } else {
    rpcUrl = config.rpcUrl!;
    chainId = config.chainId!;
    relayerKey = config.relayerKey! as Hex;
    deployer = config.deployerKey ? privateKeyToAccount(config.deployerKey as Hex) : undefined;
  }
  const client = createChainClient(rpcUrl, chainId);
  cleanups.push(() => client.destroy());
  let actualChainId: bigint;
  try {
    actualChainId = BigInt(await client.request<string>("eth_chainId", []));
  } catch (err) {
    throw new StartupError(`RPC_URL ${rpcUrl} cannot be reached: ${(err as Error).message}`);
  }
  if (actualChainId !== BigInt(chainId))
    throw new StartupError(`CHAIN_ID is ${chainId} but the node at RPC_URL is chain ${actualChainId}`);
  return { embedded, rpcUrl, chainId, relayerKey, deployer, client };
}

type Cleanups = (() => Promise<void> | void)[];
type Chain = Awaited<ReturnType<typeof connectChain>>;

/** The database (every module's tables), checkpointed in the background. */
async function openStore(config: Config, log: Logger, cleanups: Cleanups): Promise<Db> {
  const db = openDatabase(path.join(config.dataDir, "cooptrace.sqlite"), [
    custodyMigrations,
    outboxMigrations,
    indexMigrations,
    idempotencyMigrations,
    faucetMigrations,
    sessionMigrations,
    memberCardMigrations,
  ]);
  cleanups.push(() => {
    db.close();
  });
  const checkpointer = await startCheckpointer(db, { log });
  cleanups.push(async () => {
    await checkpointer.stop();
  });
  return db;
}

/** The relayer (sends members' signed requests) and the indexer (follows the chain), both started. */
async function startWorkers(
  config: Config,
  parts: { db: Db; chain: Chain; deployment: DeploymentFile; users: UserStore; log: Logger },
  cleanups: Cleanups,
) {
  const { db, chain, deployment, users, log } = parts;
  const relayerAccount = privateKeyToAccount(chain.relayerKey);
  const relayer = createRelayer({
    db,
    client: chain.client,
    forwarder: deployment.contracts.Forwarder.address,
    policy: createRelayPolicy(deployment.contracts),
    relayer: { address: relayerAccount.address, privateKey: chain.relayerKey },
    // On the embedded chain a transaction is mined as it arrives: look for its receipt soon.
    options: {
      ...config.relayer,
      userDailyGas: config.limits.userDailyGas,
      confirmations: config.confirmations,
      ...(chain.embedded ? { inFlightPollMs: 10, eagerReceipts: true } : {}),
    },
    signTypedData: (
      userId: string,
      signer: string,
      domain: TypedDataDomain,
      types: Record<string, TypedDataField[]>,
      value: Record<string, unknown>,
    ) => users.signTypedData(userId, signer, domain, types, value),
    log,
  });
  await relayer.start();
  cleanups.push(() => relayer.stop());
  const indexer = createIndexer({ db, client: chain.client, deployment, confirmations: config.confirmations, log });
  await indexer.syncOnce();
  indexer.start();
  cleanups.push(() => indexer.stop());
  return { relayer, indexer };
}

/** The platform admin: created once; its token goes to a file only the owner can read. */
function ensurePlatformAdmin(config: Config, users: UserStore, log: Logger) {
  const adminTokenFile = path.join(config.dataDir, "admin-token");
  const firstStart = users.list({ role: "platform_admin" }).length === 0;
  if (firstStart) {
    const { token } = users.create({ role: "platform_admin", displayName: "Platform admin" });
    writeFileSync(adminTokenFile, token + "\n", { mode: 0o600 });
    chmodSync(adminTokenFile, 0o600);
    log.info({ file: adminTokenFile }, "platform admin created; its token is in this file");
  }
  return { adminTokenFile, firstStart };
}

/**
 * What the HTTP layer is given: the services (over the read model, custody, the relayer and the node),
 * its settings and its own stores. `settings.publicUrl` is set again once the server listens.
 */
function composeHttp(
  config: Config,
  parts: {
    db: Db;
    chain: Chain;
    deployment: DeploymentFile;
    users: UserStore;
    log: Logger;
    relayer: Relayer;
    indexer: Indexer;
  },
  writeTimeoutMs: number,
): HttpDeps & { queries: Queries } {
  const { db, chain, deployment, users, log, relayer, indexer } = parts;
  const { client, embedded } = chain;
  const settings: HttpSettings = {
    publicUrl: config.publicUrl ?? `http://${config.host}:${config.port}`,
    https: config.publicUrl?.startsWith("https://") ?? false,
    limits: config.limits,
    sessions: config.sessions,
    idempotencyTtlMs: config.idempotencyTtlMs,
    writeTimeoutMs,
    embedded,
    chainId: chain.chainId,
    rpcUrl: chain.rpcUrl,
    networkName: config.network.name ?? networkNameOf(chain.chainId, embedded),
    explorerUrl: config.network.explorerUrl ?? null,
    publicRpcUrl: config.network.publicRpcUrl ?? null,
  };
  // The platform's own transactions (role grants) are sent with DEPLOYER_KEY only, never with the
  // relayer's key: the relayer allocates its nonces from its database, and a transaction it did not
  // send would break that sequence. Without one, those writes answer 503 platform_key_missing.
  const platform = chain.deployer === undefined ? undefined : clientAccount(client, chain.deployer);
  if (platform === undefined) {
    log.warn("no DEPLOYER_KEY: registrars, certifiers and arbiters cannot be created (503 platform_key_missing)");
  }
  const queries = createQueries(db);
  const services = createServices({
    users,
    queries,
    payoutQueries: createPayoutQueries(db),
    relayer,
    indexer,
    deployment,
    forwarder: forwarderReads(client, deployment.contracts.Forwarder.address),
    platform,
    faucet:
      embedded && deployment.demoStablecoin
        ? {
            account: clientAccount(client, privateKeyToAccount(anvilKey(2))),
            stablecoin: deployment.demoStablecoin,
            money: deployment.demoMoney,
            grants: createFaucetGrants(db),
          }
        : undefined,
    writeTimeoutMs,
    publicUrl: () => settings.publicUrl,
    client,
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId,
    tokenInfo: createTokenLookup(client, deployment.contracts.SaleEscrow.address),
    log,
    cards: createMemberCardStore({ db, log }),
    // The same sessions table the pages use (the store is only SQL): a revoked card ends them.
    sessions: createSessionStore({ db, ...config.sessions }),
  });
  const stores: HttpStores = {
    idempotency: createIdempotencyStore(db),
    formOnce: createFormOnce(db),
    pageSessions: () =>
      createPageSessions({
        db,
        users,
        log,
        // Read on each request, as the settings' own.
        get publicUrl() {
          return settings.publicUrl;
        },
        https: settings.https,
        sessions: settings.sessions,
        limits: settings.limits,
      }),
  };
  return { services, settings, log, stores, queries };
}

export async function startGateway(
  config: Config,
  options: { log?: Logger; writeTimeoutMs?: number } = {},
): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel, undefined, { env: config.env });
  const cleanups: Cleanups = [];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err }, "error while stopping");
      }
    }
  };

  try {
    // Before anything else touches the data folder: owner-only, and one gateway at a time.
    secureDataDir(config.dataDir, log);
    const lock = acquireDataDirLock(config.dataDir, { log, error: (message) => new StartupError(message) });
    cleanups.push(() => lock.release()); // runs last: the folder is ours until everything stopped
    const chain = await connectChain(config, log, cleanups);
    const { client, embedded } = chain;
    const deployment = await ensureDeployment(config.dataDir, chain.chainId, client, chain.deployer, embedded, log);
    const db = await openStore(config, log, cleanups);
    const users = createUserStore({ db, keystore: createKeystore(resolveMasterKey(config, log)), log });
    const { relayer, indexer } = await startWorkers(config, { db, chain, deployment, users, log }, cleanups);
    const { adminTokenFile, firstStart } = ensurePlatformAdmin(config, users, log);

    const { queries, ...http } = composeHttp(
      config,
      { db, chain, deployment, users, log, relayer, indexer },
      options.writeTimeoutMs ?? 30_000,
    );
    const app = buildApp(http);
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once("error", reject);
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://${config.host}:${port}`;
    if (config.publicUrl === undefined) http.settings.publicUrl = url;
    const ctx: GatewayParts = {
      ...http.settings,
      services: http.services,
      log,
      db,
      client,
      deployment,
      users,
      relayer,
      indexer,
      queries,
    };
    return { url, server, ctx, http, adminTokenFile, firstStart, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
