/**
 * The embedded chain of `npm start`: anvil from the npm package @foundry-rs/anvil, as a child process
 * on a free loopback port, its state kept in the data folder so that a restart finds everything.
 *
 * anvil is spawned directly (never through npx / npm exec, whose wrapper does not pass signals on,
 * leaving anvil running and holding the port). It writes its state on SIGINT/SIGTERM and every
 * `stateInterval` seconds, so a hard kill loses at most that much.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

/** anvil's default development mnemonic: its accounts are public test keys, for the embedded chain only. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
export const EMBEDDED_CHAIN_ID = 31337;

export interface EmbeddedChain {
  rpcUrl: string;
  chainId: number;
  stateFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface EmbeddedChainOptions {
  dataDir: string;
  /** Seconds between state snapshots. Default 2. */
  stateInterval?: number;
  port?: number;
  onLog?: (line: string) => void;
}

/** The anvil binary shipped in the platform package, or the package's launcher as a fallback. */
export function anvilCommand(): { command: string; args: string[] } {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const platformPkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const pkgDir = path.dirname(require.resolve(`${platformPkg}/package.json`));
    const binary = path.join(pkgDir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
    if (existsSync(binary)) return { command: binary, args: [] };
  } catch {
    // fall through to the launcher
  }
  const launcher = path.join(path.dirname(require.resolve("@foundry-rs/anvil/package.json")), "bin.mjs");
  return { command: process.execPath, args: [launcher] };
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGINT");
});

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function rpcReady(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startEmbeddedChain(options: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const chainDir = path.join(options.dataDir, "chain");
  mkdirSync(chainDir, { recursive: true });
  const stateFile = path.join(chainDir, "anvil-state.json");
  const port = options.port ?? (await freePort());
  const { command, args } = anvilCommand();
  const child = spawn(
    command,
    [
      ...args,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--chain-id",
      String(EMBEDDED_CHAIN_ID),
      "--mnemonic",
      ANVIL_MNEMONIC,
      "--state",
      stateFile,
      "--state-interval",
      String(options.stateInterval ?? 2),
      // anvil prints a line per JSON-RPC call; unless someone reads them, it need not (errors still print).
      ...(options.onLog ? [] : ["--quiet"]),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // The chain must not outlive this process, nor keep it alive: an exit hook stops it (SIGINT, so
  // anvil still writes its state) and the handles are unreferenced.
  running.add(child);
  child.once("exit", () => running.delete(child));
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  let exited = false;
  let exitCode: number | null = null;
  let lastOutput = "";
  const collect = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    lastOutput = (lastOutput + text).slice(-4000);
    for (const line of text.split("\n")) if (line.trim() !== "") options.onLog?.(line);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = true;
      exitCode = code;
      resolve();
    }),
  );

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await rpcReady(rpcUrl))) {
    if (exited) throw new Error(`anvil exited with code ${exitCode} before it was ready: ${lastOutput.trim()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`anvil did not answer on ${rpcUrl} within 30 s: ${lastOutput.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    rpcUrl,
    chainId: EMBEDDED_CHAIN_ID,
    stateFile,
    process: child,
    async stop() {
      if (exited) return;
      child.kill("SIGINT"); // anvil writes its state on SIGINT
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
