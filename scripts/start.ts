/**
 * `npm start`: the gateway. Without RPC_URL it runs on the embedded chain (anvil, state in DATA_DIR)
 * and seeds a demo on the very first start. Ctrl-C stops it cleanly; the next start finds everything.
 */
import "dotenv/config";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../server/config";

async function main() {
  // Everything this process creates (database, keys, tokens, chain state, logs) is for its user
  // only: files 0600, folders 0700. Modules also set modes themselves, for other entry points.
  if (process.platform !== "win32") process.umask(0o077);
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
    writeFileSync(demoFile, JSON.stringify(demo, null, 2) + "\n", { mode: 0o600 });
  }
  const demo = existsSync(demoFile)
    ? (JSON.parse(readFileSync(demoFile, "utf8")) as { roseWaterBatchId: string })
    : undefined;
  const tokensFile = path.join(config.dataDir, "demo-tokens.json");
  console.log("");
  console.log(`CoopTrace:          ${gateway.url}/  (open this in a browser)`);
  console.log(`Sign in:            ${gateway.url}/signin`);
  console.log(`API description:    ${gateway.url}/api/v1/openapi.json`);
  console.log(`Health:             ${gateway.url}/health`);
  if (demo) console.log(`Demo batch:         ${gateway.url}/b/${demo.roseWaterBatchId}`);
  console.log(`Admin token:        in ${gateway.adminTokenFile} (keep it private)`);
  if (demo && existsSync(tokensFile)) {
    // Where the demo's secrets are, and how to use each, never the secrets themselves (terminals get logged).
    console.log(`Demo accounts:      in ${tokensFile} (keep it private)`);
    // The roles and names as the file has them (a seed that adds a role needs no change here).
    const file = JSON.parse(readFileSync(tokensFile, "utf8")) as Record<string, unknown> & {
      members?: { name: string }[];
    };
    const roles = Object.keys(file)
      .filter((k) => typeof file[k] === "string" && k !== "note")
      .map((k) => (k === "cooperativeAdmin" ? "manager" : k));
    console.log(`  ${roles.join(", ")}: paste the role's token at ${gateway.url}/signin`);
    const names = (file.members ?? []).map((m) => m.name).join(", ");
    console.log(`  members (${names}): open the member's card link, then type her PIN`);
  }
  if (gateway.ctx.embedded) console.log(`Embedded chain:     ${gateway.ctx.rpcUrl} (state in ${config.dataDir}/chain)`);
  console.log("Stop with Ctrl-C.");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping (saving chain state)…`);
    // Parts wait on unreferenced handles while stopping (the checkpointer's worker, anvil): without
    // a referenced one, Node could find its loop empty and exit halfway through stop().
    const keepAlive = setInterval(() => undefined, 1_000);
    await gateway.stop();
    clearInterval(keepAlive);
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
