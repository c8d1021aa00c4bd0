/**
 * `npm run bench:gateway`: sustained write throughput of the gateway's full HTTP path (auth,
 * validation, simulation, custody signature, relay with executeBatch, mining on anvil, index, 201)
 * for batch registrations at concurrency 1, 10 and 50, side by side with the raw ceiling (ethers
 * sending the same registerBatch calls straight to a fresh anvil from 10 funded signers, one call
 * per transaction), the ratio gateway@50 / ceiling (target ≥ 1.5×) and the gateway's peak RSS
 * under that load (target ≤ 300 MB). Prints a markdown table on stdout; progress goes to stderr.
 *
 * Every figure is the median of BENCH_ROUNDS short runs (default 3 × BENCH_SECONDS = 8 s), rounds
 * interleaved (raw, gateway@1, @10, @50, raw, …) so that both sides see the same machine noise.
 * Each round starts both sides on fresh chains (a new raw anvil; a new gateway process with its own
 * data folder and embedded anvil, cooperative and members): anvil rewrites its whole state file
 * every 2 s and that file grows with every block, so neither side carries the previous rounds.
 * The gateway runs in its own process (scripts/bench/gateway-child.ts); the load generator
 * (autocannon) and the raw senders run here.
 *
 * Environment: BENCH_SECONDS, BENCH_ROUNDS, BENCH_MEMBERS (default 20), BENCH_LOG_LEVEL (default
 * info, as `npm start`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { startRawChain, runRaw, type RawChain, type RawResult } from "./bench/raw";
import { runGatewayLoad, type BenchMember, type LoadResult } from "./bench/load";
import { api, expectCreated, startGatewayProcess, type GatewayProcess } from "./bench/gateway-process";
import { cpuMeter, peakRssOf, rssSampler } from "./bench/proc";
import { fmt, mb, median, percentile } from "./bench/stats";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 20);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info";
const LEVELS = [1, 10, 50];
const TARGET_RATIO = 1.5;
const TARGET_RSS = 300 * 1024 * 1024;

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

let lotCounter = 0;
/** Unique lot codes (GS1 AI 10 characters, ≤ 20 bytes) across the whole run. */
const nextLot = (prefix: string) => () => `${prefix}-${(lotCounter++).toString(36).toUpperCase()}`;

interface GatewayRun {
  level: number;
  load: LoadResult;
  cpu: Record<string, number>;
  peakRss: Record<string, number>;
  /** 1-minute load average of the machine around the run. */
  loadavg: number;
}

/**
 * Waits until the relayer is idle: at the end of a timed run autocannon drops the requests still in
 * flight, which the gateway finishes anyway; they must not count in the next run. Empty three polls
 * in a row, so that requests still being accepted (simulated) when the queue first looks empty land too.
 */
async function drain(gw: GatewayProcess, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let empty = 0;
  for (;;) {
    const r = await api<{ relayer?: { queued: number; sent: number } }>(gw.url, undefined, "GET", "/health");
    const depth = r.body.relayer;
    empty = depth && depth.queued + depth.sent === 0 ? empty + 1 : 0;
    if (empty >= 3) return;
    if (Date.now() > end) throw new Error(`the relayer did not drain within ${timeoutMs} ms: ${JSON.stringify(depth)}`);
    await new Promise((res) => setTimeout(res, 300));
  }
}

async function setupCooperative(gw: GatewayProcess): Promise<{ cooperativeId: number; members: BenchMember[] }> {
  const registrar = await expectCreated(
    api(gw.url, gw.adminToken, "POST", "/api/v1/users", { role: "registrar", displayName: "Bench registrar" }),
    "create registrar",
  );
  const coop = await expectCreated(
    api(gw.url, registrar.token, "POST", "/api/v1/cooperatives", {
      name: "Coopérative bench des dattes",
      region: "Erfoud",
      registrationNumber: "BENCH-GW-1",
      reserveBps: 1000,
      womenLed: false,
      admin: { displayName: "Bench admin" },
    }),
    "register cooperative",
  );
  const cooperativeId = coop.cooperativeId as number;
  const members = await Promise.all(
    Array.from({ length: MEMBERS }, async (_, i) => {
      const r = await expectCreated(
        api(gw.url, coop.admin.token, "POST", `/api/v1/cooperatives/${cooperativeId}/members`, {
          displayName: `Bench member ${i}`,
          reference: `bench-${i}`,
        }),
        `add member ${i}`,
      );
      return { token: r.member.token as string, userId: r.member.userId as string };
    }),
  );
  return { cooperativeId, members };
}

// ---- the gateway's log: where the time of each request goes -----------------------------------

interface Trace {
  queuedAt: Map<string, number>;
  sentAt: Map<string, number>;
  txOf: Map<string, number>;
  minedAt: Map<number, number>;
}

function readTrace(logFile: string): Trace {
  const trace: Trace = { queuedAt: new Map(), sentAt: new Map(), txOf: new Map(), minedAt: new Map() };
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return trace;
  }
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let e: { msg?: string; time?: number; id?: string; ids?: string[]; txId?: number };
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e.time === undefined) continue;
    if (e.msg === "relay request queued" && e.id) trace.queuedAt.set(e.id, e.time);
    else if (e.msg === "relayer transaction sent" && e.ids && e.txId !== undefined) {
      for (const id of e.ids) {
        trace.sentAt.set(id, e.time); // the last send wins (a requeued request is sent again)
        trace.txOf.set(id, e.txId);
      }
    } else if (e.msg === "relayer transaction mined" && e.txId !== undefined) trace.minedAt.set(e.txId, e.time);
  }
  return trace;
}

/** Median of each phase of a 201 request, from the gateway's own log lines (ms). */
function phases(runs: GatewayRun[], trace: Trace) {
  const accept: number[] = [];
  const queue: number[] = [];
  const chain: number[] = [];
  const answer: number[] = [];
  for (const run of runs) {
    for (const a of run.load.answers) {
      if (a.status !== 201 || !a.operationId) continue;
      const q = trace.queuedAt.get(a.operationId);
      const s = trace.sentAt.get(a.operationId);
      const tx = trace.txOf.get(a.operationId);
      const m = tx === undefined ? undefined : trace.minedAt.get(tx);
      if (q === undefined || s === undefined || m === undefined) continue;
      const t0 = a.endMs - a.latencyMs;
      accept.push(q - t0);
      queue.push(s - q);
      chain.push(m - s);
      answer.push(a.endMs - m);
    }
  }
  return { n: accept.length, accept, queue, chain, answer };
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = Date.now();
  const baseDir = mkdtempSync(path.join(tmpdir(), "cooptrace-bench-gw-"));
  let raw: RawChain | undefined;
  let gw: GatewayProcess | undefined;
  /** Peak RSS of each gateway process over its life: VmHWM read before stopping it, and its own sampling. */
  const gwPeaks: { hwm?: number; sampled?: number }[] = [];
  const stopGateway = async () => {
    if (!gw) return;
    const hwm = peakRssOf(gw.pid);
    const stopped = await gw.stop().catch(() => ({}) as { peakRssBytes?: number });
    gwPeaks.push({ hwm, sampled: stopped.peakRssBytes });
    gw = undefined;
  };
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await stopGateway();
      await raw?.stop().catch(() => undefined);
      if (process.env.BENCH_KEEP) progress(`kept ${baseDir}`);
      else rmSync(baseDir, { recursive: true, force: true });
    })());
  const onSignal = () => {
    progress("interrupted: stopping the gateway and the chains");
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    progress(`${cpus().length} CPUs; ${ROUNDS} rounds × ${SECONDS} s per scenario`);
    const rawPids: Record<string, number> = { bench: process.pid };
    // Every round on fresh chains, both sides: anvil rewrites its whole state file every 2 s, and
    // the file grows with every block, so a chain that has served earlier rounds is slower.
    const freshRaw = async () => {
      await raw?.stop();
      raw = undefined;
      raw = await startRawChain();
      rawPids.rawAnvil = raw.chain.process.pid!;
    };
    let gwSetup: { cooperativeId: number; members: BenchMember[]; logFile: string; dataDir: string } | undefined;
    let pids: Record<string, number> = {};
    const freshGateway = async (round: number) => {
      await stopGateway();
      const dataDir = path.join(baseDir, `gateway-${round}`);
      mkdirSync(dataDir);
      gw = await startGatewayProcess(dataDir, LOG_LEVEL);
      progress(`round ${round}: gateway at ${gw.url}, pid ${gw.pid}, its anvil pid ${gw.anvilPid ?? "?"}`);
      const { cooperativeId, members } = await setupCooperative(gw);
      await drain(gw);
      gwSetup = { cooperativeId, members, logFile: gw.logFile, dataDir };
      pids = { gateway: gw.pid, bench: process.pid };
      if (gw.anvilPid !== undefined) pids.gatewayAnvil = gw.anvilPid;
    };

    const runGateway = async (level: number, seconds: number): Promise<GatewayRun> => {
      const cpu = cpuMeter(pids);
      const load1 = loadavg()[0];
      const rss = rssSampler({ gateway: gw!.pid });
      const load = await runGatewayLoad({
        url: gw!.url,
        cooperativeId: gwSetup!.cooperativeId,
        members: gwSetup!.members,
        connections: level,
        seconds,
        nextLot: nextLot(`G${level}`),
      });
      const run = { level, load, cpu: cpu.stop(), peakRss: rss.stop(), loadavg: (load1 + loadavg()[0]) / 2 };
      await drain(gw!);
      return run;
    };
    const runRawTimed = async (mode: "tuned" | "defaults", seconds: number) => {
      const cpu = cpuMeter(rawPids);
      const load = loadavg()[0];
      const result = await runRaw(raw!, mode, seconds, nextLot(mode === "tuned" ? "RT" : "RD"));
      return { result, cpu: cpu.stop(), load: (load + loadavg()[0]) / 2 };
    };

    type RawRun = { result: RawResult; cpu: Record<string, number>; load: number };
    const rawRuns: Record<"tuned" | "defaults", RawRun[]> = { tuned: [], defaults: [] };
    const gwRuns = new Map<number, GatewayRun[]>(LEVELS.map((l) => [l, []]));
    const phaseRuns: { level: number; phases: ReturnType<typeof phases> }[] = [];
    let members = 0;
    let blocks = NaN;
    let stateFileSize: number | undefined;
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`round ${round}: fresh raw chain (anvil, contracts, 10 member signers) and fresh gateway…`);
      await freshRaw();
      await freshGateway(round);
      members = gwSetup!.members.length;
      progress(`round ${round}: warming up (2 s raw, 3 s gateway @10)…`);
      await runRawTimed("tuned", 2);
      await runGateway(10, 3);
      for (const mode of ["tuned", "defaults"] as const) {
        const r = await runRawTimed(mode, SECONDS);
        rawRuns[mode].push(r);
        progress(
          `round ${round}: raw ${mode}: ${fmt(r.result.latenciesMs.length / r.result.seconds, 1)} tx/s, ` +
            `${r.result.errors} errors${r.result.firstError ? ` (${r.result.firstError})` : ""}`,
        );
      }
      const thisRound: GatewayRun[] = [];
      for (const level of LEVELS) {
        const run = await runGateway(level, SECONDS);
        gwRuns.get(level)!.push(run);
        thisRound.push(run);
        const ok = run.load.answers.filter((a) => a.status === 201).length;
        progress(
          `round ${round}: gateway @${level}: ${fmt(ok / SECONDS, 1)} req/s, ` +
            `${run.load.answers.length - ok + run.load.transportErrors} errors, ` +
            `peak RSS ${mb(run.peakRss.gateway)}`,
        );
      }
      // Operation and transaction ids are per gateway: trace each round's log on its own.
      const trace = readTrace(gwSetup!.logFile);
      for (const run of thisRound) phaseRuns.push({ level: run.level, phases: phases([run], trace) });
      try {
        stateFileSize = statSync(path.join(gwSetup!.dataDir, "chain", "anvil-state.json")).size;
      } catch {
        stateFileSize = undefined; // not written yet
      }
      blocks = Number(
        (await api<{ index?: { head?: number } }>(gw!.url, undefined, "GET", "/health")).body.index?.head ?? NaN,
      );
    }
    await cleanup();
    const mergedPhases = (level: number) => {
      const parts = phaseRuns.filter((r) => r.level === level).map((r) => r.phases);
      return {
        n: parts.reduce((sum, x) => sum + x.n, 0),
        accept: parts.flatMap((x) => x.accept),
        queue: parts.flatMap((x) => x.queue),
        chain: parts.flatMap((x) => x.chain),
        answer: parts.flatMap((x) => x.answer),
      };
    };
    const gwHwm = Math.max(...gwPeaks.map((x) => x.hwm ?? 0));
    const gwSampled = Math.max(...gwPeaks.map((x) => x.sampled ?? 0));

    // ---- report -------------------------------------------------------------------------------
    const out: string[] = [];
    const row = (cells: string[]) => out.push(`| ${cells.join(" | ")} |`);
    out.push(
      `## Gateway write throughput vs. raw ceiling (anvil, ${cpus().length} CPUs, ` +
        `median of ${ROUNDS} runs × ${SECONDS} s)`,
    );
    out.push("");
    row([
      "scenario",
      "req/s (tx/s raw)",
      "min–max",
      "p50 ms",
      "p95 ms",
      "errors",
      "transactions",
      "req/tx",
      "CPU % of a core (median)",
      "load avg",
    ]);
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---:"]);
    const cpuText = (runs: Record<string, number>[]) =>
      Object.keys(runs[0] ?? {})
        .map((k) => `${k} ${fmt(median(runs.map((r) => r[k])))}`)
        .join(", ");
    const rawRate = (r: RawResult) => r.latenciesMs.length / r.seconds;
    const ceiling = median(rawRuns.tuned.map((r) => rawRate(r.result)));
    for (const mode of ["tuned", "defaults"] as const) {
      const runs = rawRuns[mode];
      const rates = runs.map((r) => rawRate(r.result));
      const txs = runs.reduce((s, r) => s + r.result.latenciesMs.length, 0);
      row([
        mode === "tuned"
          ? "**raw ceiling**: ethers → BatchRegistry, 10 signers, 1 call/tx (local nonce, receipt polled every 5 ms)"
          : "raw, ethers defaults (nonce + estimate + fees per tx, tx.wait() polling 100 ms)",
        fmt(median(rates), 1),
        `${fmt(Math.min(...rates), 1)}–${fmt(Math.max(...rates), 1)}`,
        fmt(median(runs.map((r) => percentile(r.result.latenciesMs, 50))), 1),
        fmt(median(runs.map((r) => percentile(r.result.latenciesMs, 95))), 1),
        String(runs.reduce((s, r) => s + r.result.errors, 0)),
        String(txs),
        "1.00",
        cpuText(runs.map((r) => r.cpu)),
        fmt(median(runs.map((r) => r.load)), 1),
      ]);
    }
    let rateAt50 = NaN;
    let rssAt50 = 0;
    for (const level of LEVELS) {
      const runs = gwRuns.get(level)!;
      const rates = runs.map((r) => r.load.answers.filter((a) => a.status === 201).length / r.load.seconds);
      const ok = runs.flatMap((r) => r.load.answers.filter((a) => a.status === 201));
      const errors = runs.reduce(
        (s, r) => s + r.load.answers.filter((a) => a.status !== 201).length + r.load.transportErrors,
        0,
      );
      const txs = new Set(ok.map((a) => a.txHash).filter((h) => h !== undefined)).size;
      const codes = [...new Set(runs.flatMap((r) => r.load.answers.filter((a) => a.status !== 201)))]
        .map((a) => `${a.status}${a.code ? ` ${a.code}` : ""}`)
        .filter((v, i, all) => all.indexOf(v) === i);
      row([
        `gateway, concurrency ${level} (${members} members)`,
        fmt(median(rates), 1),
        `${fmt(Math.min(...rates), 1)}–${fmt(Math.max(...rates), 1)}`,
        fmt(
          median(
            runs.map((r) =>
              percentile(
                r.load.answers.map((a) => a.latencyMs),
                50,
              ),
            ),
          ),
          1,
        ),
        fmt(
          median(
            runs.map((r) =>
              percentile(
                r.load.answers.map((a) => a.latencyMs),
                95,
              ),
            ),
          ),
          1,
        ),
        errors === 0 ? "0" : `${errors} (${codes.slice(0, 3).join(", ")})`,
        String(txs),
        fmt(ok.length / Math.max(1, txs), 2),
        cpuText(runs.map((r) => r.cpu)),
        fmt(median(runs.map((r) => r.loadavg)), 1),
      ]);
      if (level === 50) {
        rateAt50 = median(rates);
        rssAt50 = Math.max(...runs.map((r) => r.peakRss.gateway ?? 0));
      }
    }
    out.push("");
    const ratio = rateAt50 / ceiling;
    row(["target", "measured", "goal", "verdict"]);
    row(["---", "---:", "---:", "---"]);
    row([
      "gateway@50 / raw ceiling",
      `${fmt(ratio, 2)}× (${fmt(rateAt50, 1)} / ${fmt(ceiling, 1)})`,
      `≥ ${TARGET_RATIO}×`,
      ratio >= TARGET_RATIO ? "met" : "**not met**",
    ]);
    row([
      "gateway peak RSS during the @50 runs (VmRSS sampled every 100 ms)",
      mb(rssAt50),
      `≤ ${mb(TARGET_RSS)}`,
      rssAt50 <= TARGET_RSS ? "met" : "**not met**",
    ]);
    row([
      "gateway peak RSS over its whole life (VmHWM; self-sampled)",
      `${mb(gwHwm)}; ${mb(gwSampled)}`,
      `≤ ${mb(TARGET_RSS)}`,
      (gwHwm ?? 0) <= TARGET_RSS ? "met" : "**not met**",
    ]);

    const p = mergedPhases(50);
    const p1 = mergedPhases(1);
    out.push("");
    out.push("Where a 201 request's time goes (median / p95 ms, from the gateway's log; n = traced requests):");
    out.push("");
    row(["phase", "@1", "@50"]);
    row(["---", "---:", "---:"]);
    const cell = (xs: number[]) => `${fmt(percentile(xs, 50))} / ${fmt(percentile(xs, 95))}`;
    row(["accept: auth, validate, role check, simulate (eth_estimateGas), queue", cell(p1.accept), cell(p.accept)]);
    row(["queued → relayer tx sent (wait for the loop, nonces, custody signing, fees)", cell(p1.queue), cell(p.queue)]);
    row(["sent → settled (broadcast, automine, next relayer tick reads the receipt)", cell(p1.chain), cell(p.chain)]);
    row(["settled → 201 (waitFor wake-up, receipt logs, index waitForBlock, JSON)", cell(p1.answer), cell(p.answer)]);
    row(["traced requests", String(p1.n), String(p.n)]);
    out.push("");
    out.push(
      `Notes: closed-loop load (autocannon, each request a new lot code, members in turn); the gateway runs in its ` +
        `own process (compiled JavaScript, as \`npm start\`), logging at ${LOG_LEVEL} to a file; raw and gateway rounds ` +
        `interleaved on two separate anvils (both as the embedded chain runs: automine, --state rewritten every 2 s), ` +
        `both fresh each round (a new gateway process and data folder too). At the end of a round the gateway's chain had ` +
        `${fmt(blocks)} blocks and a ${mb(stateFileSize)} state file. ` +
        `Shared machine: other jobs run at the same time (load avg column); run-to-run noise is large (see min–max). ` +
        `Total time ${fmt((Date.now() - t0) / 1000)} s.`,
    );
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
