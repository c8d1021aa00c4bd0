/**
 * The composition root: builds every part from the configuration, wires them, and starts them in
 * order (chain, deployment, database, custody, relayer, index, HTTP). Nothing else creates parts.
 */
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
import { mockStablecoinAbi, mockStablecoinBytecode } from "./chain/abis.generated";
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
import type { GatewayContext } from "./api/context";
import type { TypedDataDomain, TypedDataField } from "./relayer/types";
import {
  clientDeployer,
  deployCoopTrace,
  deploymentPath,
  readDeployment,
  writeDeployment,
  type DeploymentFile,
} from "./chain/deploy";

export interface Gateway {
  url: string;
  server: Server;
  ctx: GatewayContext;
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
  let demoStablecoin: string | undefined;
  if (embedded) {
    const coin = await sendAndWait(client, deployer, {
      data: encodeDeployData({
        abi: mockStablecoinAbi,
        bytecode: mockStablecoinBytecode,
        args: ["Demo Dirham Stablecoin", "DMAD"],
      }),
    });
    demoStablecoin = coin.contractAddress!;
  }
  const deployment = await deployCoopTrace(clientDeployer(client, deployer), {
    allowedTokens: demoStablecoin ? [demoStablecoin] : [],
  });
  const written = writeDeployment(dataDir, { ...deployment, demoStablecoin });
  log.info({ file: written, chainId }, "contracts deployed");
  return readDeployment(written);
}

export async function startGateway(
  config: Config,
  options: { log?: Logger; writeTimeoutMs?: number } = {},
): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel, undefined, { env: config.env });
  const embedded = config.rpcUrl === undefined;
  let chain: EmbeddedChain | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
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
    let rpcUrl: string;
    let chainId: number;
    let relayerKey: Hex;
    let deployer: LocalAccount | undefined;
    if (embedded) {
      chain = await startEmbeddedChain({
        dataDir: config.dataDir,
        // anvil's own log (a line per JSON-RPC call) only when it will be written.
        onLog: log.isLevelEnabled("trace") ? (line) => log.trace({ anvil: line }, "anvil") : undefined,
        onWarning: (message, fields) => log.warn(fields, message),
      });
      const c = chain;
      cleanups.push(() => c.stop());
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

    const deployment = await ensureDeployment(config.dataDir, chainId, client, deployer, embedded, log);
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
    const users = createUserStore({ db, keystore: createKeystore(resolveMasterKey(config, log)), log });
    const relayerAccount = privateKeyToAccount(relayerKey);
    const relayer = createRelayer({
      db,
      client,
      forwarder: deployment.contracts.Forwarder.address,
      policy: createRelayPolicy(deployment.contracts),
      relayer: { address: relayerAccount.address, privateKey: relayerKey },
      // On the embedded chain a transaction is mined as it arrives: look for its receipt soon.
      options: {
        ...config.relayer,
        userDailyGas: config.limits.userDailyGas,
        confirmations: config.confirmations,
        ...(embedded ? { inFlightPollMs: 10, eagerReceipts: true } : {}),
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
    const indexer = createIndexer({ db, client, deployment, confirmations: config.confirmations, log });
    await indexer.syncOnce();
    indexer.start();
    cleanups.push(() => indexer.stop());

    // The platform admin: created once; its token goes to a file only the owner can read.
    const adminTokenFile = path.join(config.dataDir, "admin-token");
    const firstStart = users.list({ role: "platform_admin" }).length === 0;
    if (firstStart) {
      const { token } = users.create({ role: "platform_admin", displayName: "Platform admin" });
      writeFileSync(adminTokenFile, token + "\n", { mode: 0o600 });
      chmodSync(adminTokenFile, 0o600);
      log.info({ file: adminTokenFile }, "platform admin created; its token is in this file");
    }

    // The platform's own transactions (role grants) are sent with DEPLOYER_KEY only, never with the
    // relayer's key: the relayer allocates its nonces from its database, and a transaction it did not
    // send would break that sequence. Without one, those writes answer 503 platform_key_missing.
    const platform = deployer === undefined ? undefined : clientAccount(client, deployer);
    if (platform === undefined) {
      log.warn("no DEPLOYER_KEY: registrars, certifiers and arbiters cannot be created (503 platform_key_missing)");
    }
    const queries = createQueries(db);
    const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
    const services = createServices({
      users,
      queries,
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
              grants: createFaucetGrants(db),
            }
          : undefined,
      writeTimeoutMs,
      publicUrl: () => ctx.publicUrl,
      client,
      rpcUrl,
      db,
      tokenInfo: createTokenLookup(client),
      log,
      cards: createMemberCardStore({ db, log }),
      // The same sessions table the pages use (the store is only SQL): a revoked card ends them.
      sessions: createSessionStore({ db, ...config.sessions }),
    });
    const ctx: GatewayContext = {
      services,
      log,
      db,
      client,
      deployment,
      users,
      relayer,
      indexer,
      queries,
      publicUrl: config.publicUrl ?? `http://${config.host}:${config.port}`,
      embedded,
      rpcUrl,
      chainId,
      writeTimeoutMs,
      limits: config.limits,
      sessions: config.sessions,
      idempotencyTtlMs: config.idempotencyTtlMs,
      https: config.publicUrl?.startsWith("https://") ?? false,
    };
    const app = buildApp(ctx);
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once("error", reject);
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://${config.host}:${port}`;
    if (config.publicUrl === undefined) ctx.publicUrl = url;
    return { url, server, ctx, adminTokenFile, firstStart, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
