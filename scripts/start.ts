/**
 * `npm start`: the gateway. Without RPC_URL it runs on the embedded chain (anvil, state in DATA_DIR)
 * and seeds a demo on the very first start. Ctrl-C stops it cleanly; the next start finds everything.
 */
import "dotenv/config";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../server/config";

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) console.error(`configuration: ${p.variable} ${p.message}`);
      process.exit(2);
    }
    throw err;
  }
  // Loaded only once the configuration is valid, so that a bad variable is reported at once.
  const { startGateway } = await import("../server/main");
  const { seedDemo } = await import("../server/demo/seed");
  const gateway = await startGateway(config);
  const demoFile = path.join(config.dataDir, "demo.json");
  if (gateway.ctx.embedded && gateway.firstStart && !existsSync(demoFile)) {
    console.log("Seeding the demo (first start)…");
    const token = readFileSync(gateway.adminTokenFile, "utf8").trim();
    const demo = await seedDemo(gateway.url, token, config.dataDir);
    writeFileSync(demoFile, JSON.stringify(demo, null, 2) + "\n");
  }
  const demo = existsSync(demoFile)
    ? (JSON.parse(readFileSync(demoFile, "utf8")) as { roseWaterBatchId: string })
    : undefined;
  console.log("");
  console.log(`CoopTrace gateway:  ${gateway.url}`);
  console.log(`API description:    ${gateway.url}/api/v1/openapi.json`);
  console.log(`Health:             ${gateway.url}/health`);
  if (demo) console.log(`Demo batch:         ${gateway.url}/api/v1/batches/${demo.roseWaterBatchId}`);
  console.log(`Admin token:        in ${gateway.adminTokenFile} (keep it private)`);
  if (gateway.ctx.embedded) console.log(`Embedded chain:     ${gateway.ctx.rpcUrl} (state in ${config.dataDir}/chain)`);
  console.log("Stop with Ctrl-C.");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping (saving chain state)…`);
    await gateway.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  // Expected refusals (unreachable node, stale deployment, bad keystore file) without a stack trace.
  const name = (err as Error)?.name;
  if (name === "StartupError" || name === "MasterKeyError") console.error(`cannot start: ${(err as Error).message}`);
  else console.error(err);
  process.exit(1);
});
