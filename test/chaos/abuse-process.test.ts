/**
 * Abuse of the gateway's process and data folder (issue 10, findings 5 and 9), with `npm start`'s own
 * entry point (dist/scripts/start.js, embedded anvil, demo seeded on the first start) as real
 * processes on one data folder:
 *
 * - a second gateway on the same folder is refused, naming the first one's pid, while the first keeps
 *   serving and the chain state file's block number never goes backwards (two anvil nodes saving to
 *   one file made it flip);
 * - a SIGKILLed gateway does not leave its anvil running; the next start takes the stale lock over
 *   and finds everything, including the blocks mined just before the kill;
 * - the data folder is 0700 (an existing 0755 one is tightened, with a warning) and nothing inside is
 *   readable by group or others; a clean stop releases the lock.
 *
 * The scenarios run in order on one folder. Needs dist/ built: `npx tsc -p tsconfig.build.json`.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { childrenOf, commandOf } from "../../scripts/bench/proc";
import { GATEWAY_NODE_FLAGS } from "../../scripts/lib/nodeFlags";
import { record, type ChaosRow } from "./summary";
import { chainModeEnv, INTERVAL_MODE } from "../helpers/chainMode";

/**
 * How long `npm start` may take to be ready. Its first start deploys and seeds the demo (about 30
 * writes, one after the other); on 2-s blocks each waits for its block and the index two more: about
 * two minutes there.
 */
const READY_MS = INTERVAL_MODE ? 360_000 : 120_000;

const ROOT = path.join(__dirname, "..", "..");
const START = path.join(ROOT, "dist", "scripts", "start.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie (a dead child not yet reaped by a parent that does not reap). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

interface Started {
  child: ChildProcess;
  pid: number;
  url: string;
  rpcUrl: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `npm start` as a process (its Node flags): resolves when it prints its URL, or with its exit code if it exits first. */
function startGateway(cwd: string, dataDir: string): Promise<Started | { code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, START], {
    cwd,
    env: { ...process.env, ...chainModeEnv(), DATA_DIR: dataDir, PORT: "0", NODE_ENV: "test", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      // npm start prints "CoopTrace:   http://host:port/  (open this in a browser)".
      const url = /CoopTrace:\s+(http\S+?)\/?\s/.exec(out)?.[1];
      const rpcUrl = /Embedded chain:\s+(\S+)/.exec(out)?.[1];
      if (url && rpcUrl && /Stop with Ctrl-C/.test(out)) {
        clearInterval(timer);
        resolve({ child, pid: child.pid!, url, rpcUrl, stdout: () => out, stderr: () => err, exited });
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      // Let the last output arrive.
      setTimeout(() => resolve({ code, stderr: err + out }), 100);
    });
    setTimeout(() => {
      clearInterval(timer);
      // Not left running: it would hold the data folder's lock for the next scenario.
      child.kill("SIGKILL");
      reject(new Error(`the gateway was not ready within ${READY_MS / 1000} s:\n${err}\n${out}`));
    }, READY_MS).unref();
  });
}

async function rpc<T = string>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** anvil among a process's direct children (its command line names the binary). */
function anvilOf(pid: number): number | undefined {
  return childrenOf(pid).find((p) => /anvil/.test(commandOf(p)));
}

describe("chaos: abuse of the gateway process and its data folder", function () {
  this.timeout(READY_MS + 60_000);

  let base: string;
  let dataDir: string;
  let stateFile: string;
  const processes: ChildProcess[] = [];
  const anvils = new Set<number>();
  let first: Started | undefined;
  let restarted: Started | undefined;
  let demoBatch: string;
  /** Block numbers read from the chain state file, in the order they were read. */
  const saved: number[] = [];
  let sampling = false;

  async function health(url: string, row: ChaosRow): Promise<number> {
    row.requests++;
    const res = await fetch(`${url}/health`);
    await res.text();
    if (res.status >= 500 && res.status !== 503) row.fivexx++;
    return res.status;
  }

  /** Reads the state file's saved block number every 100 ms (a read during a write is skipped). */
  async function sampleState(): Promise<void> {
    while (sampling) {
      try {
        const state = JSON.parse(readFileSync(stateFile, "utf8")) as { block?: { number?: string } };
        if (state.block?.number !== undefined) saved.push(Number(state.block.number));
      } catch {
        // absent yet, or being rewritten
      }
      await sleep(100);
    }
  }

  function track(s: Started): Started {
    processes.push(s.child);
    const anvil = anvilOf(s.pid);
    if (anvil !== undefined) anvils.add(anvil);
    return s;
  }

  async function scenario(name: string, body: (row: ChaosRow) => Promise<void>) {
    const row: ChaosRow = {
      scenario: name,
      result: "fail",
      requests: 0,
      landed: 0,
      lost: 0,
      duplicated: 0,
      fivexx: 0,
      notes: "",
    };
    try {
      await body(row);
      row.result = "pass";
    } catch (err) {
      row.notes = `${row.notes} ERROR: ${(err as Error).message.split("\n")[0].slice(0, 160)}`.trim();
      throw err;
    } finally {
      record(row);
    }
  }

  before(function () {
    if (!existsSync(START)) throw new Error(`${START} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
    base = mkdtempSync(path.join(tmpdir(), "cooptrace-abuse-proc-"));
    dataDir = path.join(base, "data");
    // An existing data folder open to everyone, as earlier versions (and a plain mkdir) left it.
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    stateFile = path.join(dataDir, "chain", "anvil-state.json");
  });

  after(async function () {
    this.timeout(60_000);
    sampling = false;
    // Whatever a failed scenario left: gateways stop with SIGINT (anvil saves), then anything still alive.
    for (const child of processes) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        if (!(await waitGone(child.pid!, 20_000))) child.kill("SIGKILL");
      }
    }
    for (const pid of anvils) {
      if (alive(pid)) {
        process.kill(pid, "SIGINT");
        if (!(await waitGone(pid, 10_000))) process.kill(pid, "SIGKILL");
      }
    }
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("a second gateway on the same data folder is refused, naming the first; the first keeps serving", async function () {
    await scenario("second gateway on one data folder", async (row) => {
      const a = await startGateway(base, dataDir);
      if (!("url" in a)) throw new Error(`the first gateway did not start (exit ${a.code}):\n${a.stderr}`);
      first = track(a);
      demoBatch = /Demo batch:\s+\S+\/b\/(0x[0-9a-f]{64})/.exec(first.stdout())![1];
      expect(await health(first.url, row)).to.equal(200);

      // The first chain keeps moving while the second tries to start, so that two nodes saving to
      // the one state file would show as a block number going back.
      sampling = true;
      const sampler = sampleState();
      let mining = true;
      const miner = (async () => {
        while (mining) {
          await rpc(first!.rpcUrl, "evm_mine");
          await sleep(150);
        }
      })();
      try {
        const b = await startGateway(base, dataDir);
        if ("url" in b) {
          track(b);
          row.notes = `second gateway started (pid ${b.pid}, its own anvil on the same state file)`;
          // Let both save a few times, so that the state file shows what it does.
          await sleep(5_000);
        } else {
          row.notes = `second start exited ${b.code}: ${b.stderr.trim().split("\n").pop()!.slice(0, 120)}`;
          expect(b.code, b.stderr).to.not.equal(0);
          expect(b.stderr).to.include(`gateway process ${first.pid}`);
          expect(b.stderr).to.include(path.join(dataDir, "gateway.lock"));
          expect(b.stderr).to.not.match(/\n\s+at /); // a message for the operator, not a stack trace
          await sleep(5_000); // anvil saves every 2 s: several saves while the sampler watches
        }
        for (let i = 0; i < 3; i++) expect(await health(first.url, row)).to.equal(200);
      } finally {
        mining = false;
        await miner;
        sampling = false;
        await sampler;
      }
      const backwards = saved.findIndex((n, i) => i > 0 && n < saved[i - 1]);
      expect(backwards, `the saved block number went back: ${saved.join(",")}`).to.equal(-1);
      // The sampler did see the chain move (otherwise it could not have seen a flip).
      expect(saved.length).to.be.greaterThan(10);
      expect(saved[saved.length - 1]).to.be.greaterThan(saved[0]);
      expect(processes, "only the first gateway may be running").to.have.length(1);
      row.notes += `; ${saved.length} state reads, block ${saved[0]} → ${saved[saved.length - 1]}, never back`;
    });
  });

  it("a SIGKILLed gateway takes its anvil with it; the next start takes the stale lock over and finds everything", async function () {
    await scenario("SIGKILL of the gateway: anvil follows, restart finds the data", async (row) => {
      expect(first, "the first scenario's gateway").to.not.equal(undefined);
      const gw = first!;
      const anvil = anvilOf(gw.pid);
      expect(anvil, "anvil is a child of the gateway").to.be.a("number");
      // Blocks mined just before the kill: only a state written at anvil's exit (SIGINT) keeps them.
      for (let i = 0; i < 5; i++) await rpc(gw.rpcUrl, "evm_mine");
      const height = Number(await rpc(gw.rpcUrl, "eth_blockNumber"));
      row.requests += 6;

      gw.child.kill("SIGKILL");
      await gw.exited;
      const t0 = Date.now();
      const gone = await waitGone(anvil!, 5_000);
      expect(gone, `anvil ${anvil} still runs 5 s after its gateway was SIGKILLed`).to.equal(true);
      row.notes = `anvil gone ${Date.now() - t0} ms after the kill`;

      const c = await startGateway(base, dataDir);
      if (!("url" in c)) throw new Error(`the restart failed (exit ${c.code}):\n${c.stderr}`);
      restarted = track(c);
      const out = restarted.stdout();
      expect(out).to.not.include("Seeding the demo");
      expect(out).to.match(new RegExp(`"level":40[^\\n]*took over the lock[^\\n]*process ${gw.pid}`));
      expect(await health(restarted.url, row)).to.equal(200);
      row.requests++;
      const batch = await fetch(`${restarted.url}/api/v1/batches/${demoBatch}`);
      expect(batch.status, await batch.text()).to.equal(200);
      const after = Number(await rpc(restarted.rpcUrl, "eth_blockNumber"));
      expect(after, "blocks mined before the kill were saved").to.be.at.least(height);
      row.landed = after >= height ? 5 : 0;
      row.lost = after >= height ? 0 : height - after;
      row.notes += `; restart at block ${after} (killed at ${height}), demo batch found`;
    });
  });

  it("keeps the data folder 0700 and every file in it owner-only; a clean stop releases the lock", async function () {
    await scenario("data folder and file modes", async (row) => {
      let gw = restarted;
      if (gw === undefined) {
        // An earlier scenario failed: a gateway of its own, so that this check stands alone.
        const s = await startGateway(base, dataDir);
        if (!("url" in s)) throw new Error(`the gateway did not start (exit ${s.code}):\n${s.stderr}`);
        gw = track(s);
      }
      // The folder was created 0755 before the first start: tightened, and the operator told.
      expect((first ?? gw).stdout()).to.match(/"level":40[^\n]*data folder was open to other users/);
      expect(lstatSync(dataDir).mode & 0o777).to.equal(0o700);
      const offenders: string[] = [];
      const seen: string[] = [];
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const full = path.join(dir, name);
          const st = lstatSync(full);
          seen.push(path.relative(dataDir, full));
          if ((st.mode & 0o077) !== 0)
            offenders.push(`${path.relative(dataDir, full)} ${(st.mode & 0o777).toString(8)}`);
          if (st.isDirectory()) walk(full);
        }
      };
      walk(dataDir);
      // What the folder must hold while the gateway runs, so that the check covers each of them.
      for (const f of [
        "cooptrace.sqlite",
        "cooptrace.sqlite-wal",
        "keystore.key",
        "admin-token",
        "demo-tokens.json",
        "demo.json",
        "gateway.lock",
        "chain",
        path.join("chain", "anvil-state.json"),
        path.join("deployments", "31337.json"),
      ])
        expect(seen, `${f} in the data folder`).to.include(f);
      expect(offenders, "readable or writable by group or others").to.deep.equal([]);

      // A clean stop (Ctrl-C): exit 0, anvil gone, the folder free again.
      const anvil = anvilOf(gw.pid);
      gw.child.kill("SIGINT");
      expect(await gw.exited).to.equal(0);
      if (anvil !== undefined) expect(await waitGone(anvil, 5_000)).to.equal(true);
      expect(existsSync(path.join(dataDir, "gateway.lock")), "gateway.lock after a clean stop").to.equal(false);
      row.notes = `${seen.length} entries checked, none open to group/others; lock released on stop`;
    });
  });

  it("when the gateway and its watchdog are both SIGKILLed, the next start stops the anvil left running first", async function () {
    await scenario("gateway and watchdog SIGKILLed: next start stops the leftover anvil", async (row) => {
      const s = await startGateway(base, dataDir);
      if (!("url" in s)) throw new Error(`the gateway did not start (exit ${s.code}):\n${s.stderr}`);
      const gw = track(s);
      const anvil = anvilOf(gw.pid);
      expect(anvil, "anvil is a child of the gateway").to.be.a("number");
      // Everything but anvil dies at once (as with `kill -9` of both, or the OOM killer taking both).
      for (const pid of childrenOf(gw.pid)) if (pid !== anvil) process.kill(pid, "SIGKILL");
      gw.child.kill("SIGKILL");
      await gw.exited;
      for (let i = 0; i < 3; i++) await rpc(gw.rpcUrl, "evm_mine");
      const height = Number(await rpc(gw.rpcUrl, "eth_blockNumber"));
      row.requests += 4;
      expect(alive(anvil!), "the left-over anvil still runs (nothing stopped it yet)").to.equal(true);

      const next = await startGateway(base, dataDir);
      if (!("url" in next)) throw new Error(`the restart failed (exit ${next.code}):\n${next.stderr}`);
      track(next);
      expect(next.stdout()).to.match(new RegExp(`"level":40[^\\n]*earlier anvil \\(pid ${anvil}\\) was still running`));
      expect(alive(anvil!), "the left-over anvil was stopped").to.equal(false);
      expect(await health(next.url, row)).to.equal(200);
      const after = Number(await rpc(next.rpcUrl, "eth_blockNumber"));
      // It was stopped with SIGINT, so it saved what it had mined alone.
      expect(after).to.be.at.least(height);
      next.child.kill("SIGINT");
      expect(await next.exited).to.equal(0);
      row.notes = `left-over anvil ${anvil} stopped (SIGINT) before the new one started; block ${after} ≥ ${height}`;
    });
  });
});
