/**
 * The gateway under benchmark, in its own process so that its memory is measured alone: starts the
 * gateway (embedded anvil, contracts deployed, port 0) on the data folder given as argv[2], logs at
 * `LOG_LEVEL` (default info, as `npm start`) into DATA_DIR/gateway.log, and prints one JSON line on
 * stdout: { ready, url, adminTokenFile, pid }. It samples its own RSS every 100 ms.
 *
 * Stops cleanly (gateway, relayer, index, anvil) on SIGTERM/SIGINT or when its stdin closes (the
 * benchmark died), then prints { stopped, peakRssBytes } and exits.
 *
 * Test support: GATEWAY_CHILD_ENV, a JSON object of configuration variables (e.g. RPC_URL, CHAIN_ID,
 * RELAYER_KEY, DEPLOYER_KEY), is merged into the configuration, so that the fault tests can run the
 * gateway against a node they kill and restart themselves.
 */
import path from "node:path";
import pino from "pino";
import { loadConfig } from "../../server/config";
import { createLogger } from "../../server/log";
import { startGateway, type Gateway } from "../../server/main";

async function main() {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error("usage: gateway-child.ts <dataDir>");
  const level = process.env.LOG_LEVEL ?? "info";
  const extra = JSON.parse(process.env.GATEWAY_CHILD_ENV ?? "{}") as Record<string, string>;
  // A benchmark writes as few members as fast as it can: the per-user limits (USER_WRITES_PER_MINUTE,
  // USER_DAILY_GAS) would measure themselves, not the gateway. GATEWAY_CHILD_ENV may still set them.
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    DATA_DIR: dataDir,
    LOG_LEVEL: level,
    USER_WRITES_PER_MINUTE: "100000",
    USER_DAILY_GAS: "1000000000000",
    ...extra,
  });
  const log = createLogger(level, pino.destination({ dest: path.join(dataDir, "gateway.log"), sync: true }));

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);

  let gateway: Gateway | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= (async () => {
      try {
        await gateway?.stop();
      } catch (err) {
        console.error(`gateway stop failed: ${(err as Error).message}`);
      }
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      process.stdout.write(JSON.stringify({ stopped: true, peakRssBytes: peakRss }) + "\n", () => process.exit(code));
    })();
    return stopping;
  };
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGINT", () => void stop(0));
  process.stdin.on("end", () => void stop(0));
  process.stdin.on("error", () => void stop(0));
  process.stdin.resume();

  try {
    gateway = await startGateway(config, { log, writeTimeoutMs: 30_000 });
  } catch (err) {
    console.error(`gateway failed to start: ${(err as Error).stack ?? err}`);
    await stop(1);
    return;
  }
  process.stdout.write(
    JSON.stringify({ ready: true, url: gateway.url, adminTokenFile: gateway.adminTokenFile, pid: process.pid }) + "\n",
  );
}

void main();
