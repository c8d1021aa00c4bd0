/**
 * `npm run reindex`: rebuilds the chain index of DATA_DIR/cooptrace.sqlite from the deployment block
 * and prints what it holds. The rebuild is one SQLite transaction, so a gateway running beside it
 * keeps serving the old index until the new one is complete.
 *
 * The node is RPC_URL. For the embedded chain, that is the `rpcUrl` that the running gateway reports
 * at /health (anvil belongs to the gateway and stops with it).
 */
import path from "node:path";
import { existsSync } from "node:fs";
import { z } from "zod";
import { ConfigError, loadConfig } from "../server/config";
import { createChainClient } from "../server/chain/client";
import { createLogger } from "../server/log";
import { openDatabase } from "../server/store/db";
import { createIndexer, createQueries, indexMigrations } from "../server/index";
import { INDEXED_CONTRACTS } from "../server/index/decode";
import { deploymentPath, readDeployment } from "../server/chain/deploy";

function fail(message: string): never {
  console.error(`reindex: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const rpcUrl = process.env.RPC_URL;
  if (rpcUrl === undefined || rpcUrl === "") {
    fail(
      "RPC_URL is not set. The embedded chain runs only while the gateway runs: start it (npm start) and " +
        "run again with RPC_URL set to the rpcUrl shown by GET /health, or give the RPC_URL of your network.",
    );
  }
  if (!z.url().safeParse(rpcUrl).success) fail(`RPC_URL must be a URL, got ${JSON.stringify(rpcUrl)}`);

  // The index signs nothing: the relayer key and chain id that the gateway requires with RPC_URL
  // are not needed here, so the rest of the configuration is read as for the embedded chain.
  let config;
  try {
    config = loadConfig({ ...process.env, RPC_URL: undefined, ALLOW_EMBEDDED_CHAIN: "true" });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  let chainId: number;
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    chainId = Number(((await res.json()) as { result: string }).result);
  } catch (err) {
    fail(
      `cannot reach ${rpcUrl} (${err instanceof Error ? err.message : String(err)}). ` +
        "For the embedded chain the gateway must be running (npm start).",
    );
  }
  const expected = process.env.CHAIN_ID;
  if (expected !== undefined && expected !== "" && Number(expected) !== chainId) {
    fail(`the node at ${rpcUrl} serves chain ${chainId}, CHAIN_ID says ${expected}`);
  }

  const file = deploymentPath(config.dataDir, chainId);
  if (!existsSync(file)) fail(`no deployment file ${file}: deploy first (npm start deploys on the embedded chain)`);
  const deployment = readDeployment(file);

  const log = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
  const client = createChainClient(rpcUrl, chainId);
  const db = openDatabase(path.join(config.dataDir, "cooptrace.sqlite"), [indexMigrations]);
  try {
    const indexer = createIndexer({ db, client, deployment, confirmations: config.confirmations, log });
    const started = Date.now();
    await indexer.reindex();
    const status = await indexer.status();
    const from = Math.min(...INDEXED_CONTRACTS.map((name) => deployment.contracts[name].blockNumber));
    console.log(
      `reindexed chain ${chainId} from block ${from} ` +
        `to ${status.lastBlock} (head ${status.head}, ${config.confirmations} confirmations) in ${Date.now() - started} ms`,
    );
    for (const [table, count] of Object.entries(createQueries(db).counts())) {
      console.log(`  ${table.padEnd(22)} ${count}`);
    }
  } finally {
    db.close();
    client.destroy();
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
