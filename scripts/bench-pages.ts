/**
 * `npm run bench:pages`: the public verify page and its JSON at 200 concurrent connections
 * (autocannon) against a populated index, side by side in the same run with a static "hello" route
 * of the same Express application as the ceiling. Targets (issue 14): the verify page serves ≥ 90% of
 * the ceiling's requests/s with a p99 ≤ 1.5× the ceiling's p99 in the same run. Time on these shared
 * machines is noisy (an absolute p99 depends on what else runs): each target is run 3 times,
 * interleaved, and the median is reported.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { loadConfig } from "../server/config";
import { createLogger } from "../server/log";
import { startGateway } from "../server/main";
import { buildApp } from "../server/api/app";
import { seedDemo } from "../server/demo/seed";

const CONNECTIONS = 200;
const DURATION_S = 6;
const ROUNDS = 3;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, headers: Record<string, string> = {}): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-bench-pages-"));
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  const gateway = await startGateway(config, { log: createLogger("silent") });
  let bench: Server | undefined;
  try {
    const token = readFileSync(gateway.adminTokenFile, "utf8").trim();
    const demo = await seedDemo(gateway.url, token, dataDir);
    // The same application as the gateway's, plus a static route: the ceiling of this server stack.
    // The rate limit (600 per minute and address) is policy, not capacity: off for this measure.
    const app = buildApp(gateway.http, {
      publicRateLimit: 0,
      extraRoutes: (a) => a.get("/bench/hello", (_req, res) => res.type("text/plain").send("hello")),
    });
    bench = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    const address = bench.address();
    const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const targets: [string, string, Record<string, string>][] = [
      ["static hello (ceiling)", `${base}/bench/hello`, {}],
      ["verify page HTML /b/<id>", `${base}/b/${demo.roseWaterBatchId}`, { "accept-language": "fr" }],
      ["verify page JSON /b/<id>", `${base}/b/${demo.roseWaterBatchId}`, { accept: "application/json" }],
    ];
    for (const [, url, headers] of targets) {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: the bench needs the pages wired`);
    }
    await load(targets[0][1]); // warm-up
    const runs = new Map<string, Figures[]>(targets.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url, headers] of targets) runs.get(name)!.push(await load(url, headers));
    }
    const summary = targets.map(([name]) => {
      const r = runs.get(name)!;
      return {
        name,
        rps: median(r.map((x) => x.rps)),
        p50: median(r.map((x) => x.p50)),
        p99: median(r.map((x) => x.p99)),
        errors: r.reduce((a, x) => a + x.errors + x.non2xx, 0),
      };
    });
    const ceiling = summary[0].rps;
    console.log(
      `Verify page at ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION_S} s per target, interleaved; medians. ` +
        `Targets: ≥ 90% of the ceiling's requests/s, p99 ≤ 1.5× the ceiling's p99.`,
    );
    console.log("");
    const ceilingP99 = summary[0].p99;
    console.log("| route | requests/s | p50 ms | p99 ms | errors | vs ceiling | p99 vs ceiling's | targets |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |");
    for (const s of summary) {
      const share = s.rps / ceiling;
      const p99ratio = s.p99 / ceilingP99;
      const met = s === summary[0] ? "—" : share >= 0.9 && p99ratio <= 1.5 ? "met" : "missed";
      console.log(
        `| ${s.name} | ${s.rps.toFixed(0)} | ${s.p50} | ${s.p99} | ${s.errors} | ${(100 * share).toFixed(0)}% | ` +
          `${p99ratio.toFixed(2)}× | ${met} |`,
      );
    }
  } finally {
    await new Promise<void>((resolve) => (bench ? bench.close(() => resolve()) : resolve()));
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
