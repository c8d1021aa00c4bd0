/**
 * `npm run bench:web`: the browser workspace's pages (issue 12), each with the session of the role
 * that uses it, measured three ways:
 *
 * - server time: GET over loopback with the signed-in session cookie, p50/p95 of the raw samples at
 *   concurrency 1 and at concurrency 20 (a keep-alive connection per client, like a browser);
 * - bytes on the wire in a cold load by Chromium: the HTML, then every same-origin style sheet, image
 *   and script it loads (headers included: they cross the network too); fonts counted apart;
 * - time to DOMContentLoaded (and to `load`) in Chromium at 360 × 800 under an emulated slow phone:
 *   400 kbit/s down and up, 400 ms round trip (CDP Network.emulateNetworkConditions), CPU 4× slower
 *   (Emulation.setCPUThrottlingRate); median of 3 loads, each in a new context (cold cache, no
 *   connection reused).
 *
 * Goals beside the figures: ≤ 50 kB (50,000 bytes) per page without fonts; DOMContentLoaded ≤ 3 s.
 *
 * The gateway runs in its own process (this file re-run with `--serve <dataDir>`): embedded anvil,
 * seeded with the demo (server/demo/seed.ts) plus one open offer, so the market lists something and
 * /market/<id> shows the buy button to the buyer. Like bench:pages, the pages are served by a second
 * application on the same gateway context with the public rate limit off (600 GETs per minute and
 * address is policy, not capacity). Nothing is written into the repository: the data folder, the
 * gateway's log and Chromium's profile live under os.tmpdir() and are removed at the end.
 *
 * Environment: BENCH_WEB_LANG (ar, zgh, fr or en; default ar, the region's language), CHROMIUM_PATH
 * (default /usr/bin/chromium), BENCH_WEB_C1 (requests at concurrency 1, default 40), BENCH_WEB_C20
 * (requests at concurrency 20, default 200), BENCH_WEB_LOADS (browser loads per page, default 3).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { chromium, type Browser } from "playwright-core";
import { fmt, median, percentile } from "./bench/stats";
import { GATEWAY_NODE_FLAGS } from "./lib/nodeFlags";

const LANG = process.env.BENCH_WEB_LANG ?? "ar";
const LOCALES: Record<string, string> = { ar: "ar-MA", zgh: "zgh-MA", fr: "fr-FR", en: "en-GB" };
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const C1_REQUESTS = Number(process.env.BENCH_WEB_C1 ?? 40);
const C20_REQUESTS = Number(process.env.BENCH_WEB_C20 ?? 200);
const LOADS = Number(process.env.BENCH_WEB_LOADS ?? 3);
const CONCURRENCY = 20;

const NETWORK = { kbits: 400, rttMs: 400, cpuSlowdown: 4 };
const GOAL_BYTES = 50_000;
const GOAL_DCL_MS = 3_000;
const VIEWPORT = { width: 360, height: 800 };

type Role = "visitor" | "manager" | "member" | "buyer" | "auditor";
interface PageSpec {
  path: string;
  as: Role;
  /** The path as the table shows it (ids shortened). */
  label?: string;
}

const progress = (msg: string) => process.stderr.write(`[bench:web] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------
// The gateway process
// ---------------------------------------------------------------------------------------------------

/** `--serve <dataDir>`: the gateway, plus the same application without the public rate limit. */
async function serve(dataDir: string): Promise<void> {
  // Imported here: the parent process needs none of the gateway's modules.
  const pino = (await import("pino")).default;
  const { loadConfig } = await import("../server/config");
  const { createLogger } = await import("../server/log");
  const { startGateway } = await import("../server/main");
  const { buildApp } = await import("../server/api/app");
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info" });
  // Logged at info into a file, as `npm start` logs (one line per request).
  const log = createLogger("info", pino.destination({ dest: path.join(dataDir, "gateway.log"), sync: false }));
  const gateway = await startGateway(config, { log });
  const app = buildApp(gateway.http, { publicRateLimit: 0 });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.stdin.on("end", () => void stop()); // the benchmark ended or died
  process.stdin.resume();
  const ready = { ready: true, gatewayUrl: gateway.url, pagesUrl: `http://127.0.0.1:${port}` };
  process.stdout.write(JSON.stringify({ ...ready, adminTokenFile: gateway.adminTokenFile }) + "\n");
}

interface GatewayChild {
  gatewayUrl: string;
  pagesUrl: string;
  adminToken: string;
  stop(): Promise<void>;
}

async function startChild(dataDir: string): Promise<GatewayChild> {
  // Node's flags of `npm start`; TypeScript through ts-node's transpiler, as this process runs.
  const args = [...GATEWAY_NODE_FLAGS, "-r", "ts-node/register/transpile-only", __filename, "--serve", dataDir];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const info = await new Promise<{ gatewayUrl: string; pagesUrl: string; adminTokenFile: string }>(
      (resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          try {
            const msg = JSON.parse(line) as { ready?: boolean };
            if (msg.ready) resolve(msg as never);
          } catch {
            // not our line
          }
        });
        void exited.then(() => reject(new Error(`the gateway process exited before it was ready:\n${stderr}`)));
        setTimeout(() => reject(new Error(`the gateway was not ready within 180 s:\n${stderr}`)), 180_000).unref();
      },
    );
    return { ...info, adminToken: readFileSync(info.adminTokenFile, "utf8").trim(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Setup: the demo, one open offer, a session per role
// ---------------------------------------------------------------------------------------------------

interface DemoTokens {
  auditor: string;
  cooperativeAdmin: string;
  buyer: string;
  members: { card: string; pin: string }[];
}

/** POSTs a sign-in form from this site (Origin = the pages' origin) and answers the session cookie. */
async function signIn(base: string, formPath: string, fields: Record<string, string>): Promise<string> {
  const res = await fetch(base + formPath, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ ...fields, lang: LANG }).toString(),
  });
  const cookie = /ct_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "");
  if (res.status !== 303 || cookie === null) throw new Error(`sign-in at ${formPath} answered ${res.status}`);
  return cookie[1];
}

async function setUp(gw: GatewayChild, dataDir: string) {
  const { seedDemo } = await import("../server/demo/seed");
  const demo = await seedDemo(gw.gatewayUrl, gw.adminToken, dataDir);
  const tokens = JSON.parse(readFileSync(demo.tokensFile, "utf8")) as DemoTokens;
  const offer = await fetch(`${gw.gatewayUrl}/api/v1/sales`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${tokens.cooperativeAdmin}` },
    body: JSON.stringify({
      batchId: demo.roseWaterBatchId,
      quantity: "6000",
      token: "ETH",
      price: "30000000000000000",
    }),
  });
  const offerBody = (await offer.json()) as { saleId?: string };
  if (offer.status !== 201 || offerBody.saleId === undefined) {
    throw new Error(`open offer: HTTP ${offer.status} ${JSON.stringify(offerBody)}`);
  }
  const base = gw.pagesUrl;
  const member = tokens.members[0];
  const cookies: Record<Role, string | undefined> = {
    visitor: undefined,
    manager: await signIn(base, "/signin", { token: tokens.cooperativeAdmin }),
    member: await signIn(base, new URL(member.card).pathname, { pin: member.pin }),
    buyer: await signIn(base, "/signin", { token: tokens.buyer }),
    auditor: await signIn(base, "/signin", { token: tokens.auditor }),
  };
  const pages: PageSpec[] = [
    { path: "/", as: "visitor" },
    { path: "/signin", as: "visitor" },
    { path: "/cooperatives", as: "visitor" },
    { path: "/market", as: "visitor" },
    { path: "/w", as: "manager" },
    { path: "/w/manager", as: "manager" },
    { path: "/w/manager/members/new", as: "manager" },
    { path: "/w/manager/batches/new", as: "manager" },
    // The offer form sells one lot: it opens from that lot's page with ?batch=.
    {
      path: `/w/manager/sales/new?batch=${demo.roseWaterBatchId}`,
      as: "manager",
      label: "/w/manager/sales/new?batch=…",
    },
    { path: "/w/member/money", as: "member" },
    { path: "/w/member/deliveries", as: "member" },
    { path: "/w/buyer/orders", as: "buyer" },
    { path: `/market/${offerBody.saleId}`, as: "buyer", label: "/market/:saleId (open offer)" },
    { path: "/audit", as: "auditor" },
  ];
  return { base, cookies, pages };
}

// ---------------------------------------------------------------------------------------------------
// Server time
// ---------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  ms: number;
  bytes: number;
}

function get(agent: http.Agent, url: URL, cookie: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = { "accept-language": LOCALES[LANG] ?? LANG, accept: "text/html" };
  if (cookie !== undefined) headers.cookie = `ct_session=${cookie}`;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start, bytes }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** `total` requests, `concurrency` in flight at all times; the latency of each, in order of completion. */
async function timed(url: URL, cookie: string | undefined, concurrency: number, total: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const samples: number[] = [];
  let started = 0;
  const client = async () => {
    while (started < total) {
      started++;
      const a = await get(agent, url, cookie);
      if (a.status !== 200) throw new Error(`${url.pathname} answered ${a.status}`);
      samples.push(a.ms);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    agent.destroy();
  }
  return samples;
}

interface ServerFigures {
  c1: number[];
  c20: number[];
}

async function serverTimes(base: string, page: PageSpec, cookie: string | undefined): Promise<ServerFigures> {
  const url = new URL(page.path, base);
  await timed(url, cookie, 1, 10); // warm-up: code paths, the pages' cache, SQLite's statements
  const c1 = await timed(url, cookie, 1, C1_REQUESTS);
  const c20 = await timed(url, cookie, CONCURRENCY, C20_REQUESTS);
  return { c1, c20 };
}

// ---------------------------------------------------------------------------------------------------
// Chromium under the emulated slow phone
// ---------------------------------------------------------------------------------------------------

interface LoadFigures {
  /** Same-origin bytes on the wire without fonts: the document, and the rest. */
  htmlBytes: number;
  assetBytes: number;
  fontBytes: number;
  requests: number;
  /** Requests to other origins (none expected: the pages' CSP allows only 'self'). */
  foreign: string[];
  /** Every same-origin request, for the report: "path (type, bytes)". */
  assets: string[];
  /** Bytes of each same-origin response's status line and headers (counted in the figures). */
  headerBytes: number[];
  dclMs: number;
  loadMs: number;
}

interface Req {
  url: string;
  type: string;
  mime: string;
  bytes: number;
  headerBytes: number;
  document: boolean;
}

async function coldLoad(browser: Browser, base: string, page: PageSpec, cookie: string | undefined) {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: LOCALES[LANG] ?? LANG });
  try {
    if (cookie !== undefined) {
      await context.addCookies([
        { name: "ct_session", value: cookie, url: base, httpOnly: true, sameSite: "Lax" as const },
      ]);
    }
    const tab = await context.newPage();
    const cdp = await context.newCDPSession(tab);
    const requests = new Map<string, Req>();
    cdp.on("Network.requestWillBeSent", (e) => {
      requests.set(e.requestId, {
        url: e.request.url,
        type: e.type ?? "Other",
        mime: "",
        bytes: 0,
        headerBytes: 0,
        document: e.type === "Document",
      });
    });
    cdp.on("Network.responseReceived", (e) => {
      const r = requests.get(e.requestId);
      if (r === undefined) return;
      r.mime = e.response.mimeType;
      // What has arrived when the headers are parsed: the status line and the headers.
      r.headerBytes = e.response.encodedDataLength;
    });
    const finished = new Set<string>();
    cdp.on("Network.loadingFinished", (e) => {
      const r = requests.get(e.requestId);
      if (r) r.bytes = e.encodedDataLength;
      finished.add(e.requestId);
    });
    cdp.on("Network.loadingFailed", (e) => finished.add(e.requestId));
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    const bytesPerSecond = (NETWORK.kbits * 1000) / 8;
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: NETWORK.rttMs,
      downloadThroughput: bytesPerSecond,
      uploadThroughput: bytesPerSecond,
    });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: NETWORK.cpuSlowdown });
    const response = await tab.goto(base + page.path, { waitUntil: "load", timeout: 60_000 });
    if (response?.status() !== 200) throw new Error(`${page.path} answered ${response?.status()} in Chromium`);
    // The last loadingFinished events may arrive just after `load`.
    for (let i = 0; i < 50 && [...requests.keys()].some((id) => !finished.has(id)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const timing = JSON.parse(
      (await tab.evaluate(
        `JSON.stringify((({domContentLoadedEventEnd: d, loadEventEnd: l}) => ({d, l}))(performance.getEntriesByType("navigation")[0]))`,
      )) as string,
    ) as { d: number; l: number };
    return { requests: [...requests.values()], dclMs: timing.d, loadMs: timing.l };
  } finally {
    await context.close();
  }
}

const isFont = (r: Req) => r.type === "Font" || /^font\/|woff/.test(r.mime) || /\.(woff2?|ttf|otf)(\?|$)/.test(r.url);

async function browserLoads(browser: Browser, base: string, page: PageSpec, cookie: string | undefined) {
  const origin = new URL(base).origin;
  const runs: LoadFigures[] = [];
  for (let i = 0; i < LOADS; i++) {
    const load = await coldLoad(browser, base, page, cookie);
    const own = load.requests.filter((r) => new URL(r.url).origin === origin);
    const sum = (rs: Req[]) => rs.reduce((a, r) => a + r.bytes, 0);
    runs.push({
      htmlBytes: sum(own.filter((r) => r.document)),
      assetBytes: sum(own.filter((r) => !r.document && !isFont(r))),
      fontBytes: sum(own.filter(isFont)),
      requests: own.length,
      foreign: load.requests
        .filter((r) => new URL(r.url).origin !== origin && !r.url.startsWith("data:"))
        .map((r) => r.url),
      assets: own.map((r) => `${new URL(r.url).pathname} (${r.type}, ${fmt(r.bytes)} B)`),
      headerBytes: own.map((r) => r.headerBytes),
      dclMs: load.dclMs,
      loadMs: load.loadMs,
    });
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------------
// The run and its table
// ---------------------------------------------------------------------------------------------------

interface Row {
  page: PageSpec;
  server: ServerFigures;
  loads: LoadFigures[];
}

function printTable(rows: Row[], browserVersion: string, startedAt: Date, seconds: number): void {
  const kb = (bytes: number) => fmt(bytes / 1000, 1);
  const ms = (v: number) => fmt(v, 1);
  const s = (v: number) => fmt(v / 1000, 2);
  console.log(
    `npm run bench:web (ts-node scripts/bench-web.ts) — ${startedAt.toISOString()}, ${cpus().length} cores ` +
      `(${cpus()[0]?.model.trim() ?? "?"}), load average ${loadavg()[0].toFixed(2)} at the end, Node ${process.version}, ` +
      `${browserVersion}, pages in "${LANG}", ${fmt(seconds)} s in all.`,
  );
  console.log(
    `Server time: GET with the role's session cookie over loopback, ${C1_REQUESTS} requests at concurrency 1 and ` +
      `${C20_REQUESTS} at ${CONCURRENCY}, after 10 warm-up requests; percentiles of the raw samples (nearest rank).`,
  );
  console.log(
    `Browser: Chromium ${VIEWPORT.width}×${VIEWPORT.height}, ${NETWORK.kbits} kbit/s down and up, ${NETWORK.rttMs} ms RTT, ` +
      `CPU ${NETWORK.cpuSlowdown}× slower; median of ${LOADS} cold loads. Bytes on the wire (headers included), kB = 1,000 bytes: ` +
      `HTML, then the same-origin assets it loads (style sheets, images, scripts); fonts apart.`,
  );
  console.log(`Goals: ≤ ${kb(GOAL_BYTES)} kB per page without fonts; DOMContentLoaded ≤ ${s(GOAL_DCL_MS)} s.`);
  console.log("");
  console.log(
    "| page | as | c1 p50 ms | c1 p95 ms | c20 p50 ms | c20 p95 ms | HTML kB | assets kB | fonts kB | requests | " +
      "total kB | ≤ 50 kB | DCL s | load s | DCL ≤ 3 s |",
  );
  console.log(
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | :---: |",
  );
  for (const { page, server, loads } of rows) {
    const m = (f: (l: LoadFigures) => number) => median(loads.map(f));
    const total = m((l) => l.htmlBytes + l.assetBytes);
    const dcl = m((l) => l.dclMs);
    const cells = [
      page.label ?? page.path,
      page.as,
      ms(percentile(server.c1, 50)),
      ms(percentile(server.c1, 95)),
      ms(percentile(server.c20, 50)),
      ms(percentile(server.c20, 95)),
      kb(m((l) => l.htmlBytes)),
      kb(m((l) => l.assetBytes)),
      kb(m((l) => l.fontBytes)),
      fmt(m((l) => l.requests)),
      kb(total),
      total <= GOAL_BYTES ? "meets" : "misses",
      s(dcl),
      s(m((l) => l.loadMs)),
      dcl <= GOAL_DCL_MS ? "meets" : "misses",
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
  const foreign = rows.flatMap((r) => r.loads.flatMap((l) => l.foreign));
  if (foreign.length > 0)
    console.log(`\nRequests to other origins (not counted above): ${[...new Set(foreign)].join(", ")}`);
  const assets = new Set(rows.flatMap((r) => r.loads[0].assets.slice(1).map((a) => a.replace(/ \(.*/, ""))));
  console.log(`\nSame-origin requests besides the documents: ${[...assets].join(", ") || "none"}.`);
  const headers = rows.flatMap((r) => r.loads.flatMap((l) => l.headerBytes));
  console.log(
    `Status line and headers per response (in the figures above): ${fmt(Math.min(...headers))}–` +
      `${fmt(Math.max(...headers))} bytes.`,
  );
  for (const { page, loads } of rows) {
    const l = loads[0];
    if (l.htmlBytes + l.assetBytes > GOAL_BYTES || median(loads.map((x) => x.dclMs)) > GOAL_DCL_MS) {
      console.log(`${page.label ?? page.path} misses a goal; its requests (first load): ${l.assets.join(", ")}`);
    }
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-bench-web-"));
  let gw: GatewayChild | undefined;
  let browser: Browser | undefined;
  try {
    progress("starting the gateway (embedded anvil) and seeding the demo…");
    gw = await startChild(dataDir);
    const { base, cookies, pages } = await setUp(gw, dataDir);
    for (const page of pages) {
      const a = await get(new http.Agent(), new URL(page.path, base), cookies[page.as]);
      if (a.status !== 200) throw new Error(`${page.path} as ${page.as} answered ${a.status}`);
    }
    const rows: Row[] = [];
    for (const page of pages) {
      progress(`server time ${page.path} (${page.as})`);
      rows.push({ page, server: await serverTimes(base, page, cookies[page.as]), loads: [] });
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    for (const row of rows) {
      progress(`Chromium ${row.page.path} (${row.page.as}), ${LOADS} cold loads`);
      row.loads = await browserLoads(browser, base, row.page, cookies[row.page.as]);
    }
    printTable(rows, `Chromium ${browser.version()}`, startedAt, (Date.now() - startedAt.getTime()) / 1000);
  } finally {
    await browser?.close();
    await gw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  serve(process.argv[3]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
