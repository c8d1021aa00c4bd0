/**
 * Issue 10 from outside, over real HTTP: findings 1 (anonymous memory exhaustion through the public
 * pages), 4 (CSV formula injection), 6 (deep JSON) and the small ones of 10 (HSTS over plain HTTP, QR
 * images not embeddable, a non-issuer's revocation answered 422, idempotency records kept forever).
 *
 * The flood runs against a gateway in its own Node process (embedded anvil, SQLite, the flags of
 * `npm start`), so that its resident memory is its own: the child starts the real gateway and, over
 * the same context, a second instance of the same application (buildApp) with the page rate limit
 * off (600 per minute and address is policy; this measures memory) and a page cache it reports on
 * over IPC. The other scenarios use the gateway the child started, as it is. HSTS with an https
 * PUBLIC_URL and idempotency expiry use an in-process gateway, whose SQLite the test can age.
 *
 * Needs dist/ built: `npx tsc -p tsconfig.build.json` (`npm run test:chaos` does it).
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GATEWAY_NODE_FLAGS } from "../../scripts/lib/nodeFlags";
import { childrenOf, commandOf, peakRssOf } from "../../scripts/bench/proc";
import { MAX_URL_LENGTH } from "../../server/api/app";
import { MAX_JSON_DEPTH } from "../../server/api/body";
import { PAYOUT_COLUMNS, toCsv } from "../../server/audit/csv";
import { DEFAULT_PAGE_CACHE_BYTES, PageCache } from "../../server/pages/cache";
import { ApiClient, startTestGateway, type ApiResponse, type TestGateway } from "../helpers/gateway";
import { record } from "./summary";

const ROOT = path.join(__dirname, "..", "..");
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const MB = 1024 * 1024;
/** The first character of a cell that a spreadsheet would evaluate. */
const FORMULA = /^[=+\-@\t\r]/;
const HYPERLINK = '=HYPERLINK("//x.io")';

/** A GTIN-14 with its GS1 check digit. */
function gtin14(first13: string): string {
  const digits = first13.split("").map(Number);
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 3 : 1), 0);
  return first13 + String((10 - (sum % 10)) % 10);
}

/** RFC 4180 records (quoted fields, "" escapes, CRLF), the header first. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  return rows;
}

async function ok<T = any>(p: Promise<ApiResponse<T>>, status = 201): Promise<T> {
  const r = await p;
  expect(r.status, r.text).to.equal(status);
  return r.body;
}

/**
 * The child: the real gateway, plus the same application over its context with the page limit off
 * and a cache it can report on. Plain JavaScript over dist/, so that no TypeScript compiler sits in
 * the memory being measured.
 */
const CHILD_SCRIPT = `
const path = require("node:path");
const pino = require("pino");
const dist = (p) => require(path.join(process.env.ABUSE_ROOT, "dist", p));
const { loadConfig } = dist("server/config");
const { createLogger } = dist("server/log");
const { startGateway } = dist("server/main");
const { buildApp } = dist("server/api/app");
const { PageCache } = dist("server/pages/cache");
(async () => {
  const dataDir = process.env.ABUSE_DATA;
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info" });
  const log = createLogger("info", pino.destination({ dest: path.join(dataDir, "gateway.log"), sync: true }));
  const gateway = await startGateway(config, { log, writeTimeoutMs: 20000 });
  const cache = new PageCache();
  const app = buildApp(gateway.http, { publicRateLimit: 0, pages: { cache } });
  const server = await new Promise((resolve) => { const s = app.listen(0, "127.0.0.1", () => resolve(s)); });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.stop();
    process.exit(0);
  };
  process.on("message", (m) => {
    if (m === "stats") {
      const mem = process.memoryUsage();
      process.send({ stats: { rss: mem.rss, heapUsed: mem.heapUsed, cacheBytes: cache.bytes, cacheEntries: cache.size, cacheMax: cache.maxBytes } });
    } else if (m === "stop") void stop();
  });
  process.on("disconnect", () => void stop());
  process.send({ ready: true, url: gateway.url, floodUrl: "http://127.0.0.1:" + server.address().port, adminTokenFile: gateway.adminTokenFile });
})().catch((err) => { console.error(err && err.stack || err); process.exit(1); });
`;

interface ChildStats {
  rss: number;
  heapUsed: number;
  cacheBytes: number;
  cacheEntries: number;
  cacheMax: number;
}

interface GatewayChild {
  child: ChildProcess;
  url: string;
  floodUrl: string;
  adminToken: string;
  logFile: string;
  anvilPid?: number;
  stats(): Promise<ChildStats>;
  stop(): Promise<void>;
}

async function startGatewayChild(dataDir: string): Promise<GatewayChild> {
  const script = path.join(ROOT, "dist", "server", "pages", "cache.js");
  if (!existsSync(script))
    throw new Error("dist/ is not built (or predates the page cache): npx tsc -p tsconfig.build.json");
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, "-e", CHILD_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ABUSE_ROOT: ROOT, ABUSE_DATA: dataDir },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<{ url: string; floodUrl: string; adminTokenFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway child not ready in 180 s:\n${stderr}`)), 180_000);
    child.on("message", (m: { ready?: boolean }) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve(m as never);
      }
    });
    void exited.then(() => reject(new Error(`gateway child exited before it was ready:\n${stderr}`)));
  });
  const anvilPid = childrenOf(child.pid!).find((pid) => /anvil/.test(commandOf(pid)));
  return {
    child,
    url: ready.url,
    floodUrl: ready.floodUrl,
    adminToken: readFileSync(ready.adminTokenFile, "utf8").trim(),
    logFile: path.join(dataDir, "gateway.log"),
    anvilPid,
    stats: () =>
      new Promise<ChildStats>((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error("the gateway child died"));
        const onMessage = (m: { stats?: ChildStats }) => {
          if (!m.stats) return;
          child.off("message", onMessage);
          resolve(m.stats);
        };
        child.on("message", onMessage);
        child.send("stats");
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send("stop");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(timer);
      }
      // An anvil its gateway could not stop must not outlive the test.
      if (anvilPid !== undefined) {
        try {
          process.kill(anvilPid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
}

/** `bytes` characters of junk query parameters, different on every call. */
let junkCounter = 0;
function junk(bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const part = `zqj${(junkCounter++).toString(36)}=${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    parts.push(part);
    length += part.length + 1;
  }
  return parts.join("&").slice(0, bytes);
}

describe("chaos: abuse over HTTP (issue 10: pages, CSV, deep JSON, headers, revocation, idempotency)", function () {
  this.timeout(600_000);

  let dataDir: string;
  let gw: GatewayChild;
  let admin: ApiClient;
  let api: ApiClient;
  let coopAdmin: ApiClient;
  let auditor: ApiClient;
  let certifiers: ApiClient[];
  let cooperativeId: number;
  let gtinBatch: string;
  const GTIN = gtin14("0611123499990");
  const GTIN_LOT = "FLOOD-2026-1";
  let hostileBatch: string;
  let hostileSale: number;
  const HOSTILE_NAMES = ["=1+2", "+SUM(1;2)", "-2+3", "@SUM(A1)", "Itto"];

  before(async function () {
    dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-abuse-"));
    gw = await startGatewayChild(dataDir);
    api = new ApiClient(gw.url);
    admin = api.as(gw.adminToken);
    const mk = async (role: string, displayName: string) =>
      api.as((await ok(admin.post("/api/v1/users", { role, displayName }))).token as string);
    const registrar = await mk("registrar", "ODCO");
    auditor = await mk("auditor", "Audit");
    certifiers = [await mk("certifier", "Certifier one"), await mk("certifier", "Certifier two")];
    const coop = await ok(
      registrar.post("/api/v1/cooperatives", {
        name: "Coopérative des Abus",
        region: "Zagora",
        registrationNumber: "ODCO-AB-1",
        reserveBps: 1000,
        admin: { displayName: HYPERLINK },
      }),
    );
    cooperativeId = coop.cooperativeId;
    coopAdmin = api.as(coop.admin.token);
    const members: { userId: string; token: string }[] = [];
    for (const [i, displayName] of HOSTILE_NAMES.entries()) {
      const r = await ok(
        coopAdmin.post(`/api/v1/cooperatives/${cooperativeId}/members`, { displayName, reference: `abuse-${i}` }),
      );
      members.push(r.member);
    }
    const contributors = members.map((m, i) => ({ memberId: m.userId, weight: String(i + 1) }));
    const batch = (lotCode: string, gtin?: string) =>
      ok(
        coopAdmin.post("/api/v1/batches", {
          cooperativeId,
          productCode: "dates-mejhoul",
          ...(gtin ? { gtin } : {}),
          lotCode,
          quantity: "1000",
          unit: "kg",
          origin: "Zagora",
          productionDate: day(-2),
          contributors,
        }),
      );
    gtinBatch = (await batch(GTIN_LOT, GTIN)).batchId;
    hostileBatch = (await batch(HYPERLINK)).batchId;

    const signup = await ok(api.post("/api/v1/buyers", { displayName: "Épicerie" }));
    const buyer = api.as(signup.token);
    await ok(buyer.post("/api/v1/faucet"));
    const offer = (batchId: string) =>
      ok(
        coopAdmin.post("/api/v1/sales", {
          batchId,
          quantity: "10",
          token: "ETH",
          price: "1000000000000007",
          buyer: signup.user.address,
        }),
      );
    // An open offer for the market, and a released sale of the hostile lot with a claim for the CSVs.
    await offer(gtinBatch);
    hostileSale = Number((await offer(hostileBatch)).saleId);
    await ok(buyer.post(`/api/v1/sales/${hostileSale}/fund`));
    await ok(coopAdmin.post(`/api/v1/sales/${hostileSale}/ship`, {}));
    await ok(buyer.post(`/api/v1/sales/${hostileSale}/confirm`, {}));
    await ok(api.as(members[0].token).post("/api/v1/claims", { batchId: hostileBatch, token: "ETH" }));
  });

  after(async function () {
    await gw?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Error-level lines of the child's log (pino level 50 and above). */
  function errorLines(): string[] {
    return readFileSync(gw.logFile, "utf8")
      .split("\n")
      .filter((l) => /"level":(50|60)/.test(l));
  }

  it("page flood: 3,000 distinct long queries on /b, /01 and /market leave small pages, a bounded cache and < 300 MB RSS; longer URLs get 414", async function () {
    const langs = ["ar", "fr", "en", "zgh"] as const;
    const routes = [`/b/${gtinBatch}`, `/01/${GTIN}/10/${GTIN_LOT}`, "/market"];
    // Each page as served without junk: the flood's pages must be the same size.
    const baseline = new Map<string, number>();
    for (const route of routes) {
      for (const lang of langs) {
        const r = await fetch(`${gw.floodUrl}${route}?lang=${lang}`);
        expect(r.status, route).to.equal(200);
        baseline.set(`${route}|${lang}`, (await r.text()).length);
      }
    }

    const LONG = 3_000;
    const OVER = 600;
    const statuses = new Map<number, number>();
    let fivexx = 0;
    let biggestExcess = -Infinity;
    let echoed = 0;
    let peakCacheBytes = 0;
    let cacheMax = 0;
    const failures: string[] = [];
    let next = 0;
    async function worker() {
      while (next < LONG + OVER) {
        const i = next++;
        const route = routes[i % routes.length];
        const lang = langs[Math.floor(i / routes.length) % langs.length];
        const over = i >= LONG;
        // Under the limit: as long as the limit allows. Over it: ~15 KB (Node itself refuses 16 KB of headers).
        const base = `${route}?lang=${lang}&`;
        const query = junk((over ? 15_000 : MAX_URL_LENGTH) - base.length);
        const json = !over && i % 7 === 0 && route !== "/market";
        const res = await fetch(`${gw.floodUrl}${base}${query}`, {
          headers: json ? { accept: "application/json" } : {},
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) fivexx++;
        if (over) {
          let code: unknown;
          try {
            code = (JSON.parse(text) as { code?: unknown }).code;
          } catch {
            code = undefined;
          }
          if (res.status !== 414 || code !== "uri_too_long")
            failures.push(`${route} (${base.length + query.length} bytes): ${res.status} ${text.slice(0, 120)}`);
          continue;
        }
        if (res.status !== 200) {
          failures.push(`${route}: ${res.status} ${text.slice(0, 120)}`);
          continue;
        }
        if (text.includes("zqj")) echoed++;
        if (!json) biggestExcess = Math.max(biggestExcess, text.length - baseline.get(`${route}|${lang}`)!);
        if (i % 500 === 0) {
          const s = await gw.stats();
          peakCacheBytes = Math.max(peakCacheBytes, s.cacheBytes);
          cacheMax = s.cacheMax;
          expect(s.cacheBytes).to.be.at.most(s.cacheMax);
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker));
    const end = await gw.stats();
    peakCacheBytes = Math.max(peakCacheBytes, end.cacheBytes);
    const peakRss = peakRssOf(gw.child.pid!)!;
    const health = await fetch(`${gw.url}/health`);

    const result = {
      failures: failures.length,
      fivexx,
      echoed,
      alive: gw.child.exitCode === null,
      health: health.status,
    };
    const pass =
      failures.length === 0 &&
      fivexx === 0 &&
      echoed === 0 &&
      biggestExcess <= 64 &&
      peakCacheBytes <= end.cacheMax &&
      peakRss < 300 * MB &&
      result.alive &&
      health.status === 200 &&
      errorLines().length === 0;
    record({
      scenario: "page flood (3,000 distinct ~2 KB queries + 600 of ~15 KB)",
      result: pass ? "pass" : "fail",
      requests: LONG + OVER,
      landed: 0,
      lost: 0,
      duplicated: 0,
      fivexx,
      notes:
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}; peak RSS ${(peakRss / MB).toFixed(0)} MB; ` +
        `cache ${(peakCacheBytes / 1024).toFixed(0)} KB of ${(cacheMax || end.cacheMax) / MB} MB in ${end.cacheEntries} entries; ` +
        `pages at most ${biggestExcess} bytes over their junk-free size; junk echoed in ${echoed}`,
    });
    expect(failures.slice(0, 5), failures.slice(0, 5).join("\n")).to.deep.equal([]);
    expect(result).to.deep.equal({ failures: 0, fivexx: 0, echoed: 0, alive: true, health: 200 });
    // A page's links carry no junk: its size does not depend on the query (a few bytes of "checked at").
    expect(biggestExcess).to.be.at.most(64);
    expect(peakCacheBytes).to.be.at.most(end.cacheMax);
    expect(end.cacheMax).to.equal(DEFAULT_PAGE_CACHE_BYTES);
    // Keyed on what changes the answer: 3 formats × 4 languages × 2 paths of one batch at most.
    expect(end.cacheEntries).to.be.at.most(2 * 4 + 2);
    expect(peakRss).to.be.below(300 * MB);
    expect(errorLines()).to.deep.equal([]);

    // The gateway as started (page limit on) answers 414 too, before its limiter, logger and routes.
    for (const route of [...routes, "/stats", "/api/v1/batches", "/audit/login"]) {
      const r = await fetch(`${gw.url}${route}?${junk(MAX_URL_LENGTH)}`);
      expect(r.status, route).to.equal(414);
      expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
      expect(((await r.json()) as { code: string }).code).to.equal("uri_too_long");
    }
    // The stats page's language links carry nothing of the query either.
    const stats = await fetch(`${gw.url}/stats?lang=fr&zqjstats=1`);
    expect(stats.status).to.equal(200);
    expect(await stats.text()).not.to.include("zqjstats");
    // The market's links keep its filters and page, nothing else.
    const market = await (await fetch(`${gw.url}/market?lang=en&product=dates-mejhoul&zqjmarket=1`)).text();
    expect(market).not.to.include("zqjmarket");
    expect(market).to.include("/market?product=dates-mejhoul&amp;lang=fr");
  });

  it("the page cache holds at most its bound in bytes, least recently used out first", function () {
    const cache = new PageCache(64 * 1024);
    const state = {};
    const page = (kb: number) => ({
      state,
      indexed: 0,
      type: "text/html; charset=utf-8",
      body: Buffer.alloc(kb * 1024, 0x61),
      etag: 'W/"0"',
    });
    for (let i = 0; i < 100; i++) {
      cache.set(`k${i}`, page(10));
      if (i === 3) expect(cache.get("k0")).not.to.equal(undefined); // k0 used: k1 becomes the oldest
      expect(cache.bytes).to.be.at.most(64 * 1024);
    }
    expect(cache.size).to.equal(6);
    expect(cache.get("k99")).not.to.equal(undefined);
    expect(cache.get("k1")).to.equal(undefined);
    cache.set("huge", page(65)); // larger than the bound: not kept, nothing evicted for it
    expect(cache.get("huge")).to.equal(undefined);
    expect(cache.size).to.equal(6);
  });

  it("deep JSON: 400 json_too_deep with or without Idempotency-Key, never a 5xx, nothing logged as an error", async function () {
    const arrays = (n: number) => "[".repeat(n) + "]".repeat(n);
    const objects = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    const cases: { name: string; client: ApiClient; path: string; body: string; headers: Record<string, string> }[] =
      [];
    for (const [client, route] of [
      [api, "/api/v1/buyers"],
      [admin, "/api/v1/users"],
    ] as const) {
      for (const [shape, body] of [
        ["30,000 arrays", arrays(30_000)],
        ["10,000 objects", objects(10_000)],
        [`${MAX_JSON_DEPTH + 1} arrays`, arrays(MAX_JSON_DEPTH + 1)],
      ]) {
        for (const key of [true, false]) {
          cases.push({
            name: `${route} ${shape}${key ? " + Idempotency-Key" : ""}`,
            client,
            path: route,
            body,
            headers: key ? { "idempotency-key": `deep-${cases.length}` } : {},
          });
        }
      }
    }
    let fivexx = 0;
    const wrong: string[] = [];
    for (const c of cases) {
      const r = await c.client.post(c.path, c.body, c.headers);
      if (r.status >= 500) fivexx++;
      if (r.status !== 400 || r.body?.code !== "json_too_deep")
        wrong.push(`${c.name}: ${r.status} ${r.text.slice(0, 120)}`);
    }
    // At the limit the body goes on to validation; brackets inside strings are text, not nesting.
    const atLimit = await admin.post("/api/v1/users", arrays(MAX_JSON_DEPTH), { "idempotency-key": "deep-at-limit" });
    const inString = await admin.post(
      "/api/v1/users",
      { role: "auditor", displayName: "[{".repeat(90) },
      { "idempotency-key": "deep-in-string" },
    );
    const errors = errorLines();
    record({
      scenario: "deep JSON (to 30,000 levels, with and without Idempotency-Key)",
      result: wrong.length === 0 && fivexx === 0 && errors.length === 0 ? "pass" : "fail",
      requests: cases.length + 2,
      landed: 0,
      lost: 0,
      duplicated: 0,
      fivexx,
      notes: `${cases.length - wrong.length}/${cases.length} answered 400 json_too_deep; depth ${MAX_JSON_DEPTH} → ${atLimit.status} ${atLimit.body?.code}; error log lines ${errors.length}`,
    });
    expect(wrong, wrong.join("\n")).to.deep.equal([]);
    expect(fivexx).to.equal(0);
    expect(atLimit.status, atLimit.text).to.equal(400);
    expect(atLimit.body.code).to.equal("invalid_field");
    expect(inString.status, inString.text).to.equal(201);
    expect(errors).to.deep.equal([]);
  });

  it("CSV: every text cell of both audit CSVs is neutralised (a lot code =HYPERLINK(...) registered through the API)", async function () {
    const exports = {
      sale: await auditor.get(`/api/v1/audit/sales/${hostileSale}.csv`),
      cooperative: await auditor.get(`/api/v1/audit/cooperatives/${cooperativeId}.csv`),
    };
    const dangerous: string[] = [];
    const seen = new Set<string>();
    let cells = 0;
    for (const [name, r] of Object.entries(exports)) {
      expect(r.status, r.text).to.equal(200);
      const [header, ...rows] = parseCsv(r.text);
      expect(header).to.deep.equal([...PAYOUT_COLUMNS]);
      expect(rows.length, name).to.be.greaterThan(HOSTILE_NAMES.length); // the shares and the claim
      for (const row of rows) {
        row.forEach((cell, i) => {
          cells++;
          if (FORMULA.test(cell)) dangerous.push(`${name}.${header[i]}: ${cell}`);
          if (cell.startsWith("'")) seen.add(`${name}.${header[i]}`);
        });
        const rec = Object.fromEntries(header.map((h, i) => [h, row[i]]));
        expect(rec.lot_code, name).to.equal(`'${HYPERLINK}`);
      }
      const names = rows.map((row) => row[header.indexOf("display_name")]);
      for (const n of HOSTILE_NAMES) expect(names, name).to.include(FORMULA.test(n) ? `'${n}` : n);
    }
    // The JSON audit is not a spreadsheet: it gives the lot code as registered.
    const json = await auditor.get(`/api/v1/audit/sales/${hostileSale}`);
    expect(json.body.lotCode).to.equal(HYPERLINK);

    // Every column of the export, fed through toCsv: each text cell neutralised, numbers left numbers.
    const hostile = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"];
    const columnsChecked: string[] = [];
    for (const value of hostile) {
      const row = Object.fromEntries(PAYOUT_COLUMNS.map((c) => [c, value]));
      const [, out] = parseCsv(toCsv(PAYOUT_COLUMNS, [row]).slice(1));
      out.forEach((cell, i) => {
        expect(cell, `${PAYOUT_COLUMNS[i]} = ${JSON.stringify(value)}`).to.equal(`'${value}`);
        columnsChecked.push(PAYOUT_COLUMNS[i]);
      });
    }
    const numbers = Object.fromEntries(PAYOUT_COLUMNS.map((c) => [c, -5]));
    const [, numeric] = parseCsv(toCsv(PAYOUT_COLUMNS, [numbers]).slice(1));
    expect(numeric).to.deep.equal(PAYOUT_COLUMNS.map(() => "-5"));
    record({
      scenario: "CSV formula injection (sale and cooperative audit CSVs)",
      result: dangerous.length === 0 ? "pass" : "fail",
      requests: 3,
      landed: 0,
      lost: 0,
      duplicated: 0,
      fivexx: 0,
      notes: `${cells} cells, none starting with = + - @ tab CR; neutralised in ${[...seen].sort().join(", ")}; all ${PAYOUT_COLUMNS.length} columns × ${hostile.length} starts through toCsv`,
    });
    expect(dangerous, dangerous.join("\n")).to.deep.equal([]);
    expect(new Set(columnsChecked).size).to.equal(PAYOUT_COLUMNS.length);
  });

  it("headers over plain HTTP: no HSTS; QR images embeddable by other sites (CORP cross-origin)", async function () {
    const page = await fetch(`${gw.url}/b/${gtinBatch}`);
    expect(page.status).to.equal(200);
    const api200 = await fetch(`${gw.url}/api/v1/batches/${gtinBatch}`);
    for (const r of [page, api200]) expect(r.headers.get("strict-transport-security")).to.equal(null);
    const qr: Record<string, string | null> = {};
    for (const kind of ["qr.svg", "qr.png"]) {
      const r = await fetch(`${gw.url}/api/v1/batches/${gtinBatch}/${kind}`);
      expect(r.status).to.equal(200);
      qr[kind] = r.headers.get("cross-origin-resource-policy");
    }
    // Other responses keep helmet's same-origin.
    const other = api200.headers.get("cross-origin-resource-policy");
    record({
      scenario: "HSTS over http, QR embeddable",
      result: qr["qr.svg"] === "cross-origin" && qr["qr.png"] === "cross-origin" ? "pass" : "fail",
      requests: 4,
      landed: 0,
      lost: 0,
      duplicated: 0,
      fivexx: 0,
      notes: `HSTS absent over http; CORP qr.svg ${qr["qr.svg"]}, qr.png ${qr["qr.png"]}, API ${other}`,
    });
    expect(qr).to.deep.equal({ "qr.svg": "cross-origin", "qr.png": "cross-origin" });
    expect(other).to.equal("same-origin");
  });

  it("a certifier revoking another certifier's certification gets 403 not_issuer; the issuer may", async function () {
    const cert = await ok(
      certifiers[0].post(`/api/v1/batches/${gtinBatch}/certifications`, { scheme: "Bio", validUntil: day(90) }),
    );
    const refused = await certifiers[1].post(`/api/v1/certifications/${cert.certificationId}/revoke`, {});
    const revoked = await certifiers[0].post(`/api/v1/certifications/${cert.certificationId}/revoke`, {});
    record({
      scenario: "revocation by a non-issuer",
      result: refused.status === 403 && revoked.status === 201 ? "pass" : "fail",
      requests: 3,
      landed: 2,
      lost: 0,
      duplicated: 0,
      fivexx: 0,
      notes: `non-issuer ${refused.status} ${refused.body?.code}; issuer ${revoked.status}`,
    });
    expect(refused.status, refused.text).to.equal(403);
    expect(refused.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(refused.body.code).to.equal("not_issuer");
    expect(revoked.status, revoked.text).to.equal(201);
  });

  describe("with an https PUBLIC_URL and IDEMPOTENCY_TTL_HOURS=1 (in process)", function () {
    let t: TestGateway;
    before(async function () {
      t = await startTestGateway({ env: { PUBLIC_URL: "https://cooptrace.example", IDEMPOTENCY_TTL_HOURS: "1" } });
    });
    after(async function () {
      await t?.stop();
    });

    it("sends HSTS", async function () {
      const r = await fetch(`${t.gateway.url}/api/v1/openapi.json`);
      expect(r.status).to.equal(200);
      expect(r.headers.get("strict-transport-security")).to.match(/max-age=\d+/);
    });

    it("forgets Idempotency-Keys after the TTL: an expired key is a new request, and expired rows are deleted", async function () {
      const db = t.gateway.ctx.db;
      const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
      const age = db.prepare<[string, string]>("UPDATE idempotency SET created_at = ? WHERE key = ?");
      const rows = db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM idempotency WHERE key = ?");
      const user = (displayName: string) => ({ role: "auditor", displayName });
      const post = (key: string, body: unknown) => t.admin.post("/api/v1/users", body, { "idempotency-key": key });

      const first = await post("ttl-key", user("First"));
      expect(first.status, first.text).to.equal(201);
      // The same bytes again: recognised (its response held a token, so it is not replayed).
      const again = await post("ttl-key", JSON.stringify(user("First")));
      expect(again.body.code).to.equal("idempotency_response_not_stored");
      // The same value in other bytes is another request: the key compares the raw body.
      const reformatted = await post("ttl-key", JSON.stringify(user("First"), null, 1));
      expect(reformatted.body.code).to.equal("idempotency_key_reused");
      const live = await post("ttl-key", user("Second"));
      expect(live.status).to.equal(422);

      // Two hours later for this key and another; half an hour later for a third.
      expect((await post("old-key", user("Old"))).status).to.equal(201);
      expect((await post("recent-key", user("Recent"))).status).to.equal(201);
      age.run(ago(2 * 3_600_000), "ttl-key");
      age.run(ago(2 * 3_600_000), "old-key");
      age.run(ago(1_800_000), "recent-key");
      const renewed = await post("ttl-key", user("Second"));
      expect(renewed.status, renewed.text).to.equal(201);
      expect(renewed.body.user.id).not.to.equal(first.body.user.id);
      expect(rows.get("old-key")!.n, "an expired row is deleted").to.equal(0);
      expect(rows.get("recent-key")!.n, "a live row is kept").to.equal(1);
      expect(rows.get("ttl-key")!.n).to.equal(1);
      const index = db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'idempotency'",
        )
        .all()
        .map((r) => r.name);
      expect(index).to.include("idempotency_created_at");
      record({
        scenario: "idempotency expiry (TTL 1 h)",
        result: "pass",
        requests: 8,
        landed: 0,
        lost: 0,
        duplicated: 0,
        fivexx: 0,
        notes:
          "key aged 2 h ran again (201); other expired row deleted, row aged 30 min kept; HSTS sent with https PUBLIC_URL",
      });
    });
  });
});
