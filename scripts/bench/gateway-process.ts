/**
 * Runs scripts/bench/gateway-child.ts as a separate Node process (so the load generator's memory is
 * not counted as the gateway's) and talks to its API for the benchmark's setup.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { childrenOf, commandOf } from "./proc";
import { GATEWAY_NODE_FLAGS } from "../lib/nodeFlags";

export interface GatewayProcess {
  url: string;
  adminToken: string;
  pid: number;
  /** The embedded anvil the gateway started (a child of the gateway process). */
  anvilPid: number | undefined;
  logFile: string;
  /** Stops the gateway (and its anvil); returns the peak RSS the gateway sampled in itself. */
  stop(): Promise<{ peakRssBytes?: number }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export async function startGatewayProcess(dataDir: string, logLevel = "info"): Promise<GatewayProcess> {
  // The gateway runs compiled, as `npm start` runs it (npm run bench:gateway builds dist/ first).
  const root = path.join(__dirname, "..", "..");
  const script = path.join(root, "dist", "scripts", "bench", "gateway-child.js");
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...profile, ...GATEWAY_NODE_FLAGS, script, dataDir], {
    cwd: path.join(__dirname, "..", ".."),
    env: { ...process.env, LOG_LEVEL: logLevel, TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  let stoppedLine: { peakRssBytes?: number } = {};
  const ready = new Promise<{ url: string; adminTokenFile: string; pid: number }>((resolve, reject) => {
    lines.on("line", (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // a stray line
      }
      if (msg.ready) resolve(msg as unknown as { url: string; adminTokenFile: string; pid: number });
      if (msg.stopped) stoppedLine = msg as { peakRssBytes?: number };
    });
    void exited.then((code) =>
      reject(new Error(`the gateway process exited (${code}) before it was ready:\n${stderr}`)),
    );
    setTimeout(() => reject(new Error(`the gateway process was not ready within 180 s:\n${stderr}`)), 180_000).unref();
  });

  let anvilPid: number | undefined;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    // Last resort: an anvil the gateway could not stop must not outlive the benchmark.
    if (anvilPid !== undefined && alive(anvilPid)) {
      process.kill(anvilPid, "SIGINT");
      if (!(await waitGone(anvilPid, 10_000))) process.kill(anvilPid, "SIGKILL");
    }
    return stoppedLine;
  };

  try {
    const info = await ready;
    anvilPid = childrenOf(child.pid!).find((pid) => /anvil/.test(commandOf(pid)));
    return {
      url: info.url,
      adminToken: readFileSync(info.adminTokenFile, "utf8").trim(),
      pid: child.pid!,
      anvilPid,
      logFile: path.join(dataDir, "gateway.log"),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A minimal JSON client for the setup steps. */
export async function api<T = any>(
  url: string,
  token: string | undefined,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url + route, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed as T };
}

export async function expectCreated<T = any>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const r = await p;
  if (r.status !== 201) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
