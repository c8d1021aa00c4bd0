/**
 * The embedded chain of `npm start`: anvil from the npm package @foundry-rs/anvil, as a child process
 * on a free loopback port, its state kept in the data folder so that a restart finds everything.
 *
 * anvil is spawned directly (never through npx / npm exec, whose wrapper does not pass signals on,
 * leaving anvil running and holding the port). It writes its state on SIGINT/SIGTERM and every
 * `stateInterval` seconds, so a hard kill loses at most that much.
 *
 * The chain dies with the process that started it, even when that process is SIGKILLed (Node has no
 * PR_SET_PDEATHSIG): a tiny `sh` watchdog holds a pipe from this process and, when the pipe closes
 * without a "disarm" word (this process is gone), sends anvil SIGINT (so it writes its state), then
 * SIGKILL if it has not exited within 15 s. anvil stays this process's direct child, so its pid,
 * signals and exit code are anvil's own. As a second line, anvil's pid is kept in
 * DATA_DIR/chain/anvil.pid: a start that finds an earlier anvil still running on the same state file
 * stops it first, so that two nodes never save over each other.
 *
 * The chain folder is 0700 and the state file 0600 (anvil is spawned under umask 077).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { makePrivate, processAlive, processStartTime } from "../store/lock";

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
  /**
   * Seconds between blocks (anvil --block-time): a block every interval, as on a real network. 0 or
   * absent: each transaction is mined as it arrives (automine).
   */
  blockTime?: number;
  onLog?: (line: string) => void;
  /** Told when the start had to stop an earlier anvil left running on the same state file. */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
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

/** Running chains, each with its watchdog's pipe (undefined where there is no `sh`). */
const running = new Map<ChildProcess, Watchdog | undefined>();
process.once("exit", () => {
  for (const [child, watchdog] of running) {
    child.kill("SIGINT");
    // anvil already has its SIGINT: the watchdog only has to make sure it ends.
    watchdog?.tell("stopping");
  }
});

/**
 * The watchdog, for `sh -c`: $1 is anvil's pid, $2 how many tenths of a second anvil gets to write
 * its state before SIGKILL. It ignores SIGINT and SIGHUP, which a terminal sends to the whole process
 * group, so that it is still there to act when the gateway goes. (The script must not contain the
 * chain program's name: tools find anvil among the gateway's children by its command line.)
 */
const WATCHDOG_SCRIPT = `
trap '' INT HUP
IFS= read -r word
case "$word" in
  disarm) exit 0 ;;
  stopping) ;;
  *) kill -INT "$1" 2>/dev/null || exit 0 ;;
esac
n=0
while kill -0 "$1" 2>/dev/null; do
  n=$((n + 1))
  if [ "$n" -gt "$2" ]; then kill -KILL "$1" 2>/dev/null; exit 0; fi
  sleep 0.1
done
`;

interface Watchdog {
  pid: number | undefined;
  /** Sends one word ("disarm": anvil has exited; "stopping": anvil has been sent SIGINT) and closes. */
  tell(word: "disarm" | "stopping"): void;
}

function startWatchdog(anvilPid: number, graceTenths: number): Watchdog | undefined {
  if (process.platform === "win32") return undefined;
  const dog = spawn(
    "/bin/sh",
    ["-c", WATCHDOG_SCRIPT, "cooptrace-chain-watchdog", String(anvilPid), String(graceTenths)],
    {
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  // Neither the watchdog nor its pipe may keep this process alive.
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  dog.on("error", () => undefined); // no sh: the exit hook and the pid file remain
  dog.stdin?.on("error", () => undefined); // the watchdog already gone
  let told = false;
  return {
    pid: dog.pid,
    tell(word) {
      if (told) return;
      told = true;
      dog.stdin?.end(`${word}\n`);
    },
  };
}

/** The pid file of the running anvil: {pid, startTime, stateFile}. */
function pidFileOf(chainDir: string): string {
  return path.join(chainDir, "anvil.pid");
}

/**
 * Stops an anvil that an earlier gateway left running on this state file (the gateway was killed
 * and its watchdog too). Only a process proven to be that anvil is signalled: same pid and start
 * time, and its command line names this state file (Linux /proc; elsewhere nothing is done).
 */
async function stopLeftover(chainDir: string, stateFile: string, warn: EmbeddedChainOptions["onWarning"]) {
  const file = pidFileOf(chainDir);
  let recorded: { pid: number; startTime?: string };
  try {
    recorded = JSON.parse(readFileSync(file, "utf8")) as { pid: number; startTime?: string };
  } catch {
    return; // none, or unreadable: nothing to act on
  }
  const { pid } = recorded;
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !processAlive(pid)) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return;
  }
  if (!cmdline.includes(stateFile) || processStartTime(pid) !== recorded.startTime) return;
  warn?.(
    `an earlier anvil (pid ${pid}) was still running on this chain state: stopping it (SIGINT, so that it saves) before starting a new one`,
    { pid, stateFile },
  );
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 15_000;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
  mkdirSync(chainDir, { recursive: true, mode: 0o700 });
  const stateFile = path.join(chainDir, "anvil-state.json");
  // Folders and state files of earlier versions were 0755 / 0644.
  makePrivate(chainDir);
  makePrivate(stateFile);
  await stopLeftover(chainDir, stateFile, options.onWarning);
  const port = options.port ?? (await freePort());
  const { command, args } = anvilCommand();
  // anvil creates its state file with its own umask, inherited at spawn: owner-only. (process.umask
  // cannot be set in a worker thread; there the chmod above and the folder's mode still hold.)
  let previousUmask: number | undefined;
  try {
    previousUmask = process.umask(0o077);
  } catch {
    previousUmask = undefined;
  }
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
      ...(options.blockTime ? ["--block-time", String(options.blockTime)] : []),
      // anvil prints a line per JSON-RPC call; unless someone reads them, it need not (errors still print).
      ...(options.onLog ? [] : ["--quiet"]),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  if (previousUmask !== undefined) process.umask(previousUmask);
  // The chain must not outlive this process, nor keep it alive: an exit hook stops it (SIGINT, so
  // anvil still writes its state), the watchdog stops it if this process dies without running that
  // hook (SIGKILL), and the handles are unreferenced.
  const watchdog = child.pid !== undefined ? startWatchdog(child.pid, 150) : undefined;
  const pidFile = pidFileOf(chainDir);
  if (child.pid !== undefined) {
    writeFileSync(
      pidFile,
      JSON.stringify({ pid: child.pid, startTime: processStartTime(child.pid), stateFile }) + "\n",
      { mode: 0o600 },
    );
  }
  running.set(child, watchdog);
  child.once("exit", () => {
    running.delete(child);
    watchdog?.tell("disarm");
    try {
      if (JSON.parse(readFileSync(pidFile, "utf8")).pid === child.pid) unlinkSync(pidFile);
    } catch {
      // already gone, or a later chain's
    }
  });
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
